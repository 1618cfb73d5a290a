import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// `.openapi()` on every zod schema (the routers' own included): component names, examples, parameter metadata.
extendZodWithOpenApi(z);

export { z };
