package io.inferencefleet.benchmarks.chaos;

import java.util.List;
import java.util.Map;

/**
 * What one scenario measured: the checker's tally of its topics, each disruption with how long the
 * fleet took to recover, the resource peaks, what the publisher saw, and the evidence (supervisor
 * events, notable worker log lines, problems the harness itself detected).
 *
 * @param notes scenario-specific figures, in order (e.g. the measured sustainable rate)
 * @param problems things that went wrong in the fleet as the harness saw them (not recovered, drain given up, ...)
 * @param logFindings notable worker log lines (errors, exceptions) with how often each occurred
 */
record ScenarioOutcome(String name, String description, String requestsTopic, String resultsTopic,
                       ResultLedger.Tally tally, List<Recovery> recoveries, long peakRssBytes, int peakRssWorkers,
                       long peakShmDirBytes, long shmDirLeftAfterStopBytes, long shmFsBaselineBytes, long peakShmFsBytes,
                       long published, long publishAcked, long publishFailed, String firstPublishFailure,
                       Map<String, String> notes, List<String> events, Map<String, Integer> exitCodes,
                       List<String> logFindings, List<String> problems, String stop, double seconds) {

    /**
     * One disruption and the fleet's recovery from it.
     *
     * @param recoveredSeconds from the kill until the fleet was whole again (every worker ready), NaN if it never was
     * @param resumedSeconds from the kill until the first answer to a request published after the restart (broker),
     *                       NaN when not measured
     */
    record Recovery(ResultLedger.Disruption disruption, double recoveredSeconds, double resumedSeconds, String note) {}
}
