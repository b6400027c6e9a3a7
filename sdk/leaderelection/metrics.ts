/** A value that is set outright (a prom-client Gauge with its labels bound fits). */
export interface LeaderElectionGauge {
  set(value: number): void;
}

/**
 * The series of one named elector.
 *
 * - `masterStatus`: client-go's `leader_election_master_status{name}`: 1 while this elector leads, 0 otherwise (set to
 *   0 when `start()` begins, so a replica on standby reports 0 rather than nothing).
 */
export interface LeaderElectionMetrics {
  masterStatus: LeaderElectionGauge;
}

/**
 * Makes the series of each elector. kubeloop/leaderelection never imports a metrics library: the manager adapts
 * prom-client to this interface (`name` becomes the `name` label), and tests can pass a recording provider.
 *
 * Caveats: called once per elector, with its `name`; names are not checked for uniqueness here.
 */
export interface LeaderElectionMetricsProvider {
  newLeaderElectionMetrics(name: string): LeaderElectionMetrics;
}

/** The default provider: records nothing. */
export const noopLeaderElectionMetricsProvider: LeaderElectionMetricsProvider = {
  newLeaderElectionMetrics: () => ({ masterStatus: { set() {} } }),
};
