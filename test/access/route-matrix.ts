/**
 * The permission every management API route must declare, one entry per operationId, and how to
 * call it with a harmless dummy request (path parameters default to `matrix-none`, bodies to
 * `{}`): the permission check runs first, so a 400 or 404 proves it passed. The matrix test fails
 * for a route without an entry and for an entry without a route. Routes added by other features
 * get their entry here.
 */
import type { Permission } from '../../src/access/permissions.ts';

export interface MatrixEntry {
  permission: Permission | 'public';
  /** Query string appended to the path, e.g. `device=matrix-none`. */
  query?: string;
  /** JSON body for POST/PUT/PATCH; `{}` when not given. */
  body?: unknown;
  /**
   * The dummy request reaches devices beyond any group scope (fleet-wide defaults, defaults of a group
   * that does not exist), so a principal scoped to a group is refused even with the permission:
   * 403 naming `<permission> on every device`.
   */
  wholeFleet?: true;
}

export const routeMatrix: Record<string, MatrixEntry> = {
  // system, web
  health: { permission: 'public' },
  getCrl: { permission: 'public' },
  getCaChain: { permission: 'public' },
  // auth, users, tokens
  login: { permission: 'public' },
  logout: { permission: 'account:self' },
  whoAmI: { permission: 'account:self' },
  changeOwnPassword: { permission: 'account:self' },
  createToken: { permission: 'account:self' },
  listTokens: { permission: 'account:self' },
  revokeToken: { permission: 'account:self' },
  listUsers: { permission: 'users:admin' },
  createUser: { permission: 'users:admin' },
  getUser: { permission: 'users:admin' },
  setUserRoles: { permission: 'users:admin' },
  disableUser: { permission: 'users:admin' },
  enableUser: { permission: 'users:admin' },
  setUserPassword: { permission: 'users:admin' },
  deleteUser: { permission: 'users:admin' },
  // devices and groups
  listDevices: { permission: 'devices:read' },
  countDevices: { permission: 'devices:read' },
  getDevice: { permission: 'devices:read' },
  fleetSummary: { permission: 'devices:read' },
  // dashboard
  dashboardOverview: { permission: 'devices:read' },
  dashboardTrends: { permission: 'devices:read' },
  // An open event stream never ends: an unknown parameter makes it a 400 once the check has passed.
  dashboardEvents: { permission: 'devices:read', query: 'matrix=none' },
  listGroups: { permission: 'devices:read' },
  getGroup: { permission: 'devices:read' },
  runGroupOperation: { permission: 'devices:write' },
  createGroup: { permission: 'groups:write' },
  deleteGroup: { permission: 'groups:write' },
  // telemetry
  telemetrySeries: { permission: 'telemetry:read' },
  telemetryLatest: { permission: 'telemetry:read', query: 'device=matrix-none' },
  telemetryEvents: { permission: 'telemetry:read', query: 'device=matrix-none' },
  telemetryArchives: { permission: 'telemetry:read' },
  // alerts
  listAlerts: { permission: 'alerts:read' },
  getAlert: { permission: 'alerts:read' },
  listAlertNotifications: { permission: 'alerts:read' },
  acknowledgeAlert: { permission: 'alerts:write' },
  resolveAlert: { permission: 'alerts:write' },
  listAlertRules: { permission: 'alerts:read' },
  getAlertRule: { permission: 'alerts:read' },
  createAlertRule: { permission: 'alert-rules:write' },
  updateAlertRule: { permission: 'alert-rules:write' },
  deleteAlertRule: { permission: 'alert-rules:write' },
  // firmware
  listReleases: { permission: 'firmware:read' },
  getRelease: { permission: 'firmware:read' },
  listReleaseDeltas: { permission: 'firmware:read' },
  signDownloadUrl: { permission: 'firmware:read' },
  getPendingTargetsMetadata: { permission: 'firmware:read' },
  uploadArtifact: { permission: 'firmware:write' },
  publishRelease: { permission: 'firmware:write' },
  buildReleaseDeltas: { permission: 'firmware:write' },
  publishSignedTargetsMetadata: { permission: 'firmware:write' },
  // deployments and rollouts
  listDeployments: { permission: 'rollouts:read' },
  getDeployment: { permission: 'rollouts:read' },
  listDeviceUpdates: { permission: 'rollouts:read' },
  createDeployment: { permission: 'rollouts:write' },
  cancelDeployment: { permission: 'rollouts:write' },
  listRollouts: { permission: 'rollouts:read' },
  getRollout: { permission: 'rollouts:read' },
  dryRunRollout: { permission: 'rollouts:read' },
  createRollout: { permission: 'rollouts:write' },
  pauseRollout: { permission: 'rollouts:write' },
  resumeRollout: { permission: 'rollouts:write' },
  approveRollout: { permission: 'rollouts:write' },
  cancelRollout: { permission: 'rollouts:write' },
  // provisioning, owners, audit
  createBatch: { permission: 'provisioning:write' },
  getBatch: { permission: 'provisioning:read' },
  signFactoryCsr: { permission: 'provisioning:write' },
  listDeviceCertificates: { permission: 'provisioning:read' },
  getDeviceLabel: { permission: 'provisioning:read' },
  revokeDevice: { permission: 'provisioning:write' },
  redeemClaimCode: { permission: 'provisioning:write' },
  transferOwner: { permission: 'provisioning:write' },
  releaseOwner: { permission: 'provisioning:write' },
  listAudit: { permission: 'audit:read' },
  exportAudit: { permission: 'audit:read' },
  // remote jobs
  createJob: { permission: 'jobs:write' },
  listJobs: { permission: 'jobs:read' },
  cancelAllJobs: { permission: 'jobs:write' },
  getJob: { permission: 'jobs:read' },
  listJobExecutions: { permission: 'jobs:read' },
  cancelJob: { permission: 'jobs:write' },
  downloadJobLogs: { permission: 'jobs:read' },
  listDeviceJobs: { permission: 'jobs:read' },
  // device configuration
  getDeviceConfig: { permission: 'config:read' },
  setDeviceConfig: { permission: 'config:write' },
  getFleetConfigDefaults: { permission: 'config:read' },
  setFleetConfigDefaults: { permission: 'config:write', wholeFleet: true },
  deleteFleetConfigDefaults: { permission: 'config:write', wholeFleet: true },
  getGroupConfigDefaults: { permission: 'config:read' },
  setGroupConfigDefaults: { permission: 'config:write' },
  deleteGroupConfigDefaults: { permission: 'config:write', wholeFleet: true },
  bulkDeviceConfig: { permission: 'config:write' },
  // fleet plan
  fleetPlan: { permission: 'system:read' },
};
