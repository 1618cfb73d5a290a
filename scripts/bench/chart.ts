/**
 * A small dependency-free SVG chart: throughput (bars, left axis) and p99 / p50 latency (lines, right axis)
 * against connection count (one category per measured level).
 */

export interface SweepPoint {
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface ChartOptions {
  title: string;
  subtitle?: string;
  /**
   * A horizontal reference line on the throughput axis (e.g. the database ceiling), with its label. One more than
   * twice the best level would flatten the bars: it is then named at the top of the plot instead of drawn.
   */
  reference?: { requestsPerSecond: number; label: string };
}

const WIDTH = 760;
const TICKS = 5;
const HEIGHT = 458;
const MARGIN = { top: 96, right: 78, bottom: 64, left: 78 };
const COLORS = {
  bars: '#4e79a7',
  p99: '#e15759',
  p50: '#f28e2b',
  reference: '#59a14f',
  grid: '#e6e6e6',
  text: '#333333',
  muted: '#777777',
};

export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** The smallest step of 1, 2, 2.5 or 5 times a power of ten with `steps` steps reaching `value`. */
export function niceScale(value: number, steps = 5): { max: number; step: number } {
  const rough = value > 0 ? value / steps : 1 / steps;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough)!;
  return { max: step * steps, step };
}

/** Axis labels: 250, 1.25k, 12k, 0.5. */
function formatNumber(value: number): string {
  if (value >= 1000) return `${Number((value / 1000).toFixed(2))}k`;
  if (value >= 10) return String(Math.round(value));
  return String(Number(value.toFixed(2)));
}

function text(
  x: number,
  y: number,
  content: string,
  attributes: Record<string, string | number> = {},
): string {
  const extra = Object.entries(attributes)
    .map(([name, value]) => ` ${name}="${escapeXml(String(value))}"`)
    .join('');
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${extra}>${escapeXml(content)}</text>`;
}

export function throughputLatencySvg(points: readonly SweepPoint[], options: ChartOptions): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const bottom = MARGIN.top + plotHeight;
  const best = Math.max(...points.map((point) => point.requestsPerSecond));
  const referenceOnScale =
    options.reference !== undefined && options.reference.requestsPerSecond <= Math.max(1, best) * 2;
  const throughputScale = niceScale(
    Math.max(best, referenceOnScale ? options.reference!.requestsPerSecond : 0),
    TICKS,
  );
  const latencyScale = niceScale(Math.max(...points.map((point) => point.p99Ms)), TICKS);
  const band = plotWidth / Math.max(1, points.length);
  const centre = (index: number) => MARGIN.left + band * (index + 0.5);
  const yThroughput = (value: number) => bottom - (value / throughputScale.max) * plotHeight;
  const yLatency = (value: number) => bottom - (value / latencyScale.max) * plotHeight;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
      `font-family="Helvetica, Arial, sans-serif" font-size="12" fill="${COLORS.text}">`,
  );
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  parts.push(
    text(WIDTH / 2, 24, options.title, { 'text-anchor': 'middle', 'font-size': 16, 'font-weight': 'bold' }),
  );
  if (options.subtitle) {
    parts.push(text(WIDTH / 2, 43, options.subtitle, { 'text-anchor': 'middle', fill: COLORS.muted }));
  }

  // Grid and the two axes' ticks (the same number of steps on both sides, so grid lines serve both).
  const steps = TICKS;
  for (let tick = 0; tick <= steps; tick += 1) {
    const y = bottom - (tick / steps) * plotHeight;
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="${COLORS.grid}"/>`,
    );
    parts.push(
      text(MARGIN.left - 8, y + 4, formatNumber(tick * throughputScale.step), {
        'text-anchor': 'end',
        fill: COLORS.bars,
      }),
    );
    parts.push(
      text(MARGIN.left + plotWidth + 8, y + 4, formatNumber(tick * latencyScale.step), {
        fill: COLORS.p99,
      }),
    );
  }
  parts.push(
    text(20, MARGIN.top + plotHeight / 2, 'requests/s', {
      transform: `rotate(-90 20 ${MARGIN.top + plotHeight / 2})`,
      'text-anchor': 'middle',
      fill: COLORS.bars,
    }),
  );
  parts.push(
    text(WIDTH - 20, MARGIN.top + plotHeight / 2, 'latency (ms)', {
      transform: `rotate(90 ${WIDTH - 20} ${MARGIN.top + plotHeight / 2})`,
      'text-anchor': 'middle',
      fill: COLORS.p99,
    }),
  );

  // Throughput bars with their values.
  const barWidth = band * 0.46;
  points.forEach((point, index) => {
    const y = yThroughput(point.requestsPerSecond);
    parts.push(
      `<rect x="${(centre(index) - barWidth / 2).toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" ` +
        `height="${(bottom - y).toFixed(1)}" fill="${COLORS.bars}" opacity="0.85"/>`,
    );
    parts.push(
      text(centre(index), y - 6, `${Math.round(point.requestsPerSecond)}/s`, {
        'text-anchor': 'middle',
        fill: COLORS.bars,
        'font-weight': 'bold',
      }),
    );
    parts.push(text(centre(index), bottom + 18, String(point.connections), { 'text-anchor': 'middle' }));
    if (point.errors > 0) {
      parts.push(
        text(centre(index), bottom + 32, `${point.errors} errors`, {
          'text-anchor': 'middle',
          fill: COLORS.p99,
        }),
      );
    }
  });
  parts.push(
    text(MARGIN.left + plotWidth / 2, bottom + 48, 'concurrent connections', {
      'text-anchor': 'middle',
      fill: COLORS.muted,
    }),
  );

  if (options.reference && !referenceOnScale) {
    parts.push(
      text(MARGIN.left, MARGIN.top - 12, `↑ ${options.reference.label} (off this scale)`, {
        fill: COLORS.reference,
      }),
    );
  } else if (options.reference) {
    const y = yThroughput(options.reference.requestsPerSecond);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" ` +
        `stroke="${COLORS.reference}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
    parts.push(text(MARGIN.left + 6, y - 5, options.reference.label, { fill: COLORS.reference }));
  }

  // Latency lines (p50 dashed, p99 solid) with markers and the p99 values.
  // A level where no request completed has no latency: the lines break there instead of dropping to 0.
  const measured = (point: SweepPoint) => point.requestsPerSecond > 0;
  const line = (latencyOf: (point: SweepPoint) => number, color: string, dashed: boolean) => {
    let path = '';
    let drawing = false;
    points.forEach((point, index) => {
      if (!measured(point)) {
        drawing = false;
        return;
      }
      path += `${drawing ? ' L' : ' M'}${centre(index).toFixed(1)},${yLatency(latencyOf(point)).toFixed(1)}`;
      drawing = true;
      parts.push(
        `<circle cx="${centre(index).toFixed(1)}" cy="${yLatency(latencyOf(point)).toFixed(1)}" r="4" fill="${color}"/>`,
      );
    });
    parts.push(
      `<path d="${path.trim()}" fill="none" stroke="${color}" stroke-width="2.5"${dashed ? ' stroke-dasharray="5 4"' : ''}/>`,
    );
  };
  line((point) => point.p50Ms, COLORS.p50, true);
  line((point) => point.p99Ms, COLORS.p99, false);
  points.forEach((point, index) => {
    const label = measured(point)
      ? `p99 ${point.p99Ms >= 10 ? Math.round(point.p99Ms) : point.p99Ms} ms`
      : 'no request completed';
    const y = measured(point) ? yLatency(point.p99Ms) - 8 : bottom - 24;
    // The last label goes left of its point, clear of the right axis.
    const last = index === points.length - 1;
    parts.push(
      text(centre(index) + (!measured(point) ? 0 : last ? -8 : 8), y, label, {
        fill: COLORS.p99,
        'font-size': 11,
        ...(!measured(point) ? { 'text-anchor': 'middle' } : last ? { 'text-anchor': 'end' } : {}),
      }),
    );
  });

  // Legend.
  const legendY = 62;
  const legend: [string, string, 'bar' | 'solid' | 'dashed'][] = [
    ['throughput (req/s)', COLORS.bars, 'bar'],
    ['p99 latency', COLORS.p99, 'solid'],
    ['p50 latency', COLORS.p50, 'dashed'],
  ];
  let x = MARGIN.left;
  for (const [label, color, kind] of legend) {
    parts.push(
      kind === 'bar'
        ? `<rect x="${x}" y="${legendY - 9}" width="14" height="10" fill="${color}"/>`
        : `<line x1="${x}" x2="${x + 16}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${color}" stroke-width="2.5"${kind === 'dashed' ? ' stroke-dasharray="5 4"' : ''}/>`,
    );
    parts.push(text(x + 22, legendY, label));
    x += 22 + label.length * 6.5 + 24;
  }

  parts.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${bottom}" y2="${bottom}" stroke="${COLORS.text}"/>`,
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
