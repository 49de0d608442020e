export * from './types.ts';
export * from './compose.ts';
export * from './errors.ts';
export * from './context.ts';
export * from './error-response.ts';
export * from './headers.ts';
