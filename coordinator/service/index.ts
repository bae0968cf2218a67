/** The coordinator as a long-lived service (`clustrix up`): a pool held for clients to attach to. */
export { ClusterService, type ServiceOptions } from './service.js';
export { configDir, ensureServicesDir, listStates, logFilePath, processExists, readState, removeState, servicesDir, stateFilePath, writeState, ServiceState } from './state-file.js';
