// The app server: a master that runs an app's workers on unix sockets (see master.ts).
export { startAppServer } from './master.ts';
export type { AppServer, AppServerOptions, AppServerLog, LogLevel, WorkerInfo } from './master.ts';
export type { WorkerState } from './worker-handle.ts';
export type { WorkerSettings } from './reconfigure.ts';
export type { TcpAddress } from './ipc.ts';
export { AppLoadError } from './worker-handle.ts';
export type { FetchApp, NodeListener } from './fetch-bridge.ts';
