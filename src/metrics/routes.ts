import type { Express } from 'express';

/** One route as Express matches it: a method and a path pattern in Express syntax (`/api/people/:id`). */
export interface MountedRoute {
  method: string;
  path: string;
}

/** The parts of an Express 5 (router 2) layer that say what it matches. */
interface Layer {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

function pathsOf(rawPath: unknown): string[] {
  const paths = Array.isArray(rawPath) ? rawPath.flat(Infinity) : [rawPath];
  return paths.map((path) => {
    if (typeof path !== 'string') throw new Error(`a route or mount path is not a string: ${String(path)}`);
    return path;
  });
}

function join(prefix: string, path: string): string {
  return `${prefix}/${path}`.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
}

function walk(stack: readonly Layer[], prefix: string, found: MountedRoute[]): void {
  for (const layer of stack) {
    if (layer.route) {
      const methods = Object.keys(layer.route.methods).filter((method) => method !== '_all');
      for (const path of pathsOf(layer.rawPath ?? layer.route.path)) {
        for (const method of methods) found.push({ method, path: join(prefix, path) });
      }
    } else if (Array.isArray(layer.handle.stack)) {
      for (const path of pathsOf(layer.rawPath ?? '/')) walk(layer.handle.stack, join(prefix, path), found);
    }
  }
}

/**
 * Every route mounted on the app, in matching order, found by walking `app.router.stack` and the stacks of the
 * routers mounted in it. Middleware (guards, static files) is not a route and is not listed.
 */
export function mountedRoutes(app: Express): MountedRoute[] {
  const found: MountedRoute[] = [];
  walk((app.router as unknown as { stack: Layer[] }).stack, '', found);
  return found;
}

/** `/api/people/:id` → `/api/people/{id}`. Only named parameters are used by this service's routes. */
export function toOpenApiPath(path: string): string {
  if (/[*?(){}]/.test(path)) throw new Error(`route ${path} uses syntax the documentation does not map`);
  return path.replace(/:(\w+)/g, '{$1}');
}

export interface RouteMatcher {
  /** The pattern of the first route matching the method and path (GET routes also answer HEAD), or null. */
  match(method: string, path: string): string | null;
  /** The methods some route answers on this path, as an `Allow` header lists them: upper case, sorted. */
  allowedMethods(path: string): string[];
}

/** Matches request paths against the mounted routes the way Express does (case-insensitive, trailing slash). */
export function routeMatcher(routes: readonly MountedRoute[]): RouteMatcher {
  const compiled = routes.map((route) => {
    const pattern = route.path
      .split(/(:\w+)/)
      .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    return { method: route.method, path: route.path, regex: new RegExp(`^${pattern}/?$`, 'i') };
  });
  return {
    match(method, path) {
      const wanted = method.toLowerCase() === 'head' ? ['head', 'get'] : [method.toLowerCase()];
      return compiled.find((route) => wanted.includes(route.method) && route.regex.test(path))?.path ?? null;
    },
    allowedMethods(path) {
      const methods = new Set(
        compiled.filter((route) => route.regex.test(path)).map((route) => route.method),
      );
      if (methods.has('get')) methods.add('head');
      return [...methods].map((method) => method.toUpperCase()).sort();
    },
  };
}
