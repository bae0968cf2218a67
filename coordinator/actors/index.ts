export { ActorHandle, makeClassRef, isClassRef } from './actor-handle.js';
export type { ActorProxy, ActorState, ClassRef, MethodNames, MethodArgs, MethodResult } from './actor-handle.js';
export { ActorManager } from './actor-manager.js';
export type { ActorInfo } from './actor-manager.js';
export { resolveActorOptions } from './actor-options.js';
export type { ActorOptions } from './actor-options.js';
