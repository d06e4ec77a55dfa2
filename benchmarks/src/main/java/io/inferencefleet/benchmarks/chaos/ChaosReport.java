package io.inferencefleet.benchmarks.chaos;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The markdown report of one chaos run: verdict, summary table, one section per scenario, method. */
final class ChaosReport {
    private ChaosReport() {}

    /** @param brokerFindings notable lines of the broker's log over the whole run */
    static String markdown(ChaosSettings settings, Map<String, String> machine, List<ScenarioOutcome> outcomes,
                           List<String> brokerFindings) {
        StringBuilder md = new StringBuilder();
        md.append("# Chaos run ").append(machine.get("date"), 0, 10).append("\n\n");
        md.append("A real fleet (`fleet up --per-node ").append(settings.perNode()).append("`, one JVM per worker) on a real")
                .append(" broker (`fleet broker --dir`, its own process), disrupted while requests flow; an independent")
                .append(" checker (plain KafkaConsumer, `").append(settings.exactlyOnce() ? "read_committed" : "read_uncommitted")
                .append("`, from the beginning) counts results per request id. Workers: `delivery.guarantee=")
                .append(settings.guarantee()).append("`. Goal: **lost 0** in every scenario; ")
                .append(settings.exactlyOnce() ? "**duplicates 0** (exactly-once, as read_committed readers see it);"
                        : "duplicates are allowed (at-least-once) and reported per kill;")
                .append(" every request answered after the overload.\n\n");
        boolean met = outcomes.stream().allMatch(o -> o.tally().lost() == 0 && o.problems().isEmpty()
                && (!settings.exactlyOnce() || o.tally().duplicates() == 0));
        md.append("**Verdict: ").append(met ? "met" : "NOT met").append("** — ").append(outcomes.stream()
                .map(o -> o.name() + ": " + o.tally().lost() + " lost, " + o.tally().duplicates() + " duplicates"
                        + (o.problems().isEmpty() ? "" : ", " + o.problems().size() + " problem(s)"))
                .collect(Collectors.joining("; "))).append(".\n\n");

        md.append("## Summary\n\n");
        md.append("| scenario | requests | answered | lost | duplicates (ids) | answers | unexpected answers | peak RSS of the")
                .append(" worker JVMs | peak /dev/shm (run's dir) | peak /dev/shm used (whole fs; at start) | drain | scenario time |\n");
        md.append("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n");
        for (ScenarioOutcome o : outcomes) {
            ResultLedger.Tally t = o.tally();
            md.append(String.format("| %s | %d | %d | **%d** | %d (%d) | %s | %d | %s (%d JVMs) | %s | %s (%s) | %.1f s | %.0f s |%n",
                    o.name(), t.requests(), t.answered(), t.lost(), t.duplicates(), t.idsWithDuplicates(), counts(t.answers()),
                    t.unexpected().values().stream().mapToInt(Integer::intValue).sum(), mib(o.peakRssBytes()), o.peakRssWorkers(),
                    mib(o.peakShmDirBytes()), mib(o.peakShmFsBytes()), mib(o.shmFsBaselineBytes()), t.drainSeconds(), o.seconds()));
        }
        md.append("\nDrain = from the last request published to the last result written (record timestamps, one clock).")
                .append(" Peaks are sampled every ").append(ResourceSampler.PERIOD_MS).append(" ms.\n\n");

        for (ScenarioOutcome o : outcomes) {
            scenario(md, o);
        }

        md.append("## Broker\n\nOne `fleet broker` process for the whole run (restarted by the broker scenario)")
                .append(settings.scenarios().contains("failover") ? "; the failover scenario's three-node cluster had its own" : "")
                .append(". Notable lines of the logs (warnings and errors, grouped with digits blanked, most frequent first):\n\n```\n");
        brokerFindings.forEach(l -> md.append(l).append("\n"));
        md.append("```\n\n");
        md.append("## Machine and command\n\n| | |\n|---|---|\n");
        machine.forEach((k, v) -> md.append("| ").append(k).append(" | ").append(k.equals("command") ? "`" + v + "`" : v)
                .append(" |\n"));
        md.append("\n## Settings\n\n| | |\n|---|---|\n");
        md.append("| scenarios | ").append(String.join(", ", settings.scenarios())).append(" |\n");
        md.append("| model | ").append(settings.model()).append(" (generated, synthetic weights) |\n");
        md.append("| workers | `fleet up --per-node ").append(settings.perNode()).append("`, default worker settings (threads auto,")
                .append(" shutdown.timeout.ms 30000), restart policy of fleet up (1 s doubling to 30 s, at most 5 a minute)")
                .append(settings.workerSettings().isEmpty() ? "" : "; plus " + settings.workerSettings()).append(" |\n");
        md.append("| topics | fresh per scenario: requests 4 partitions, results 2 partitions, replication 1 (failover: 3,")
                .append(" min.insync.replicas 2) |\n");
        md.append(String.format("| load | %.1f req/s in kill, broker and failover; every %d-th request bad (bad JSON, missing file,"
                + " truncated photo in turn); %d s of load before the first disruption and after each recovery |%n",
                settings.rate(), settings.badEvery(), settings.settleSeconds()));
        md.append(String.format("| kills | %d worker kills, %d broker kills (broker down %d s); not recovered within %d s"
                + " counts as a problem |%n", settings.kills(), settings.brokerKills(), settings.brokerDownSeconds(),
                settings.recoverySeconds()));
        md.append(String.format("| overload | %.1f× the sustainable rate for %d s; the drain is given up after %d s without"
                + " a new result |%n", settings.overloadFactor(), settings.overloadSeconds(), settings.drainIdleSeconds()));

        md.append("\n## Method\n\n");
        md.append("- Requests are published by a plain idempotent `acks=all` KafkaProducer, each keyed by its id, at a constant")
                .append(" rate (open loop). A request counts when it is on the requests topic (the checker reads it there).\n");
        md.append("- A result belongs to the request whose id it carries, or, when the worker could not read an id (bad JSON:")
                .append(" it answers `unknown@<partition>:<offset>`), to the request whose key it carries. The earliest result")
                .append(" is the answer; every further result for the same id is a duplicate, attributed to the latest kill")
                .append(" before the duplicate's timestamp. The answer's status and error code are compared with what the")
                .append(" request's kind must get (photo: OK; bad JSON: `bad_request`; missing file: `not_found`; truncated:")
                .append(" `truncated_image`).\n");
        md.append("- A worker kill is `kill -9` of the worker JVM (the pid in `state.json`); the fleet has recovered when the")
                .append(" supervisor runs a new process in that slot and every worker's `/ready` answers 200. A broker kill is")
                .append(" `kill -9` of the `fleet broker` JVM and `fleet broker` again on the same directory and port.\n");
        md.append("- \"Longest time without answers\" is the longest stretch between the kill and the next one (or the end)")
                .append(" in which no request got its answer, counted from the kill: how long the fleet as a whole stalled.\n");
        md.append("- The failover scenario's cluster: three `LocalKafkaCluster` nodes (Kafka's KafkaRaftServer, broker and")
                .append(" controller in one process each, static voters); node 1 is every partition's preferred leader; the")
                .append(" kill is `kill -9` of the leader of requests partition 0; new leaders are read with the admin client")
                .append(" every 0.2 s; recovered = the node back in every partition's ISR and every worker ready. Its results")
                .append(" topic uses LogAppendTime, so answer times are when a leader wrote them.\n");
        md.append("- Peak RSS is the largest sum of `VmRSS` (`/proc/<pid>/status`) over the worker JVMs alive at one sample;")
                .append(" /dev/shm is `du -sk` of the run's own `shm.dir` (the tensor queues of this scenario's workers) and, for")
                .append(" context, the used space of the whole /dev/shm file system (statvfs, other users' files included).\n");
        md.append("- Every child process (broker, `fleet up`, its worker JVMs) is stopped when the run ends, on failure and")
                .append(" SIGTERM too; `fleet up` gets SIGTERM, and worker pids from its `state.json` still alive after it are SIGKILLed.\n");
        return md.toString();
    }

    private static void scenario(StringBuilder md, ScenarioOutcome o) {
        ResultLedger.Tally t = o.tally();
        md.append("## ").append(o.name()).append("\n\n").append(o.description()).append(". Topics `").append(o.requestsTopic())
                .append("` → `").append(o.resultsTopic()).append("`.\n\n");
        md.append("- requests: ").append(t.requests()).append(" (").append(counts(t.requestsByKind())).append("); published ")
                .append(o.published()).append(", acknowledged ").append(o.publishAcked()).append(", failed ").append(o.publishFailed())
                .append(o.firstPublishFailure() == null ? "" : " (first: " + o.firstPublishFailure() + ")").append("\n");
        md.append("- answered: ").append(t.answered()).append(" (").append(counts(t.answers())).append("); **lost: ")
                .append(t.lost()).append("**").append(t.lostIds().isEmpty() ? "" : " — " + t.lostIds().stream().limit(20)
                        .map(id -> "`" + id + "`").collect(Collectors.joining(", ")) + (t.lostIds().size() > 20 ? ", ..." : ""))
                .append("\n");
        md.append("- duplicates: ").append(t.duplicates()).append(" extra results for ").append(t.idsWithDuplicates())
                .append(" ids").append(t.perDisruption().isEmpty() ? "" : "; before the first kill: " + t.duplicatesBeforeFirst())
                .append("\n");
        if (!t.unexpected().isEmpty()) {
            md.append("- unexpected answers: ").append(counts(t.unexpected())).append("; e.g. ")
                    .append(t.unexpectedExamples().stream().map(e -> "`" + e + "`").collect(Collectors.joining(", "))).append("\n");
        }
        if (t.unmatchedResults() > 0 || t.inconsistentSources() > 0) {
            md.append("- results matching no request: ").append(t.unmatchedResults()).append(" ").append(t.unmatchedExamples())
                    .append("; results whose source partition/offset is not their request's: ").append(t.inconsistentSources())
                    .append("\n");
        }
        md.append(String.format("- drain: %.1f s from the last publish to the last result%n", t.drainSeconds()));
        md.append(String.format("- peak RSS of the worker JVMs: %s (%d JVMs); peak /dev/shm of the run's dir: %s, left after"
                + " the fleet stopped: %s%n", mib(o.peakRssBytes()), o.peakRssWorkers(), mib(o.peakShmDirBytes()),
                mib(o.shmDirLeftAfterStopBytes())));
        o.notes().forEach((k, v) -> md.append("- ").append(k).append(": ").append(v).append("\n"));
        md.append("- worker exit codes seen by the supervisor: ").append(o.exitCodes().isEmpty() ? "none" : counts(o.exitCodes()))
                .append(" (137 = our SIGKILL, 143 = SIGTERM at the end)\n");
        md.append("- stop: ").append(o.stop()).append("\n");
        for (String p : o.problems()) {
            md.append("- **problem**: ").append(p).append("\n");
        }
        if (!o.recoveries().isEmpty()) {
            md.append("\n| # | what | at (s after the first request) | target | pid | recovered after | answers to new")
                    .append(" requests after | longest time without answers | duplicates (ids) | note |\n")
                    .append("|---:|---|---:|---|---:|---:|---:|---:|---:|---|\n");
            for (int i = 0; i < o.recoveries().size(); i++) {
                ScenarioOutcome.Recovery r = o.recoveries().get(i);
                ResultLedger.Attributed a = t.perDisruption().get(i);
                md.append(String.format("| %d | %s | %.1f | %s | %d | %s | %s | %s | %d (%d) | %s |%n",
                        r.disruption().number(), r.disruption().what(), (r.disruption().atMs() - t.firstPublishMs()) / 1000.0,
                        r.disruption().target(), r.disruption().pid(), seconds(r.recoveredSeconds()),
                        seconds(r.resumedSeconds()), seconds(a.longestGapSeconds()), a.duplicates(), a.ids(), r.note()));
            }
        }
        md.append("\n<details><summary>Requests published / answered per ").append(ResultLedger.Tally.BUCKET_MS / 1000)
                .append(" s from the first request</summary>\n\n```\n");
        for (int i = 0; i < t.perBucket().size(); i++) {
            int[] b = t.perBucket().get(i);
            md.append(String.format("%5d s  published %5d  answered %5d%n", i * ResultLedger.Tally.BUCKET_MS / 1000, b[0], b[1]));
        }
        md.append("```\n</details>\n");
        md.append("\n<details><summary>Supervisor events (").append(o.events().size()).append(")</summary>\n\n```\n");
        o.events().forEach(e -> md.append(e.replaceFirst("^(\\S+) .*?(event=)", "$1 $2")).append("\n"));
        md.append("```\n</details>\n\n");
        md.append("<details><summary>Notable worker log lines: warnings, errors, exceptions (").append(o.logFindings().size())
                .append(" kinds)</summary>\n\n```\n");
        o.logFindings().forEach(l -> md.append(l).append("\n"));
        md.append("```\n</details>\n\n");
    }

    private static String counts(Map<String, Integer> map) {
        return map.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).collect(Collectors.joining(", "));
    }

    private static String seconds(double s) {
        return Double.isNaN(s) ? "—" : String.format("%.1f s", s);
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "?" : String.format("%.1f MiB", bytes / 1048576.0);
    }
}
