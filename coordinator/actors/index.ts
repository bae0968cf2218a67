export { ActorHandle, makeClassRef, isClassRef } from '../api/actor-handle.js';
export type { ActorProxy, ActorState, ClassRef, MethodNames, MethodArgs, MethodResult } from '../api/actor-handle.js';
export { ActorManager } from '../engine/actor-manager.js';
export type { ActorInfo } from '../engine/actor-manager.js';
export { resolveActorOptions } from '../api/actor-options.js';
export type { ActorOptions } from '../api/actor-options.js';
