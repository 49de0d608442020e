// The framework's public surface: `createApp()` and what handlers and middleware touch.
export { App, createApp, type AppOptions } from './app.ts';
export { Group, type RouteArgs } from './group.ts';
export { Context, type BodyOptions, type HeaderRecord, type RedirectStatus } from './context.ts';
export type { Handler, Middleware, MiddlewareInfo, MiddlewareScope, Next } from './middleware.ts';
export type { RouteInfo } from './route-table.ts';
export type { PathParams } from './path-params.ts';
export { Router, ANY_METHOD, type RouteMatch, type RouterLike, type RouterOptions, type TrailingSlashPolicy, type CasePolicy } from './router.ts';
export { validate, type StandardSchemaV1, type InferOutput, type ValidationTarget } from './validate.ts';
export { ValidationError, errorResponse, type ErrorHandler, type ValidationIssue } from './errors.ts';
export { DEFAULT_BODY_LIMIT } from './body.ts';
export * from '../http/errors.ts';
