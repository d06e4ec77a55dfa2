package io.inferencefleet.worker.numa;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;

/**
 * The CPUs this process may run on: {@code Cpus_allowed_list} of {@code /proc/self/status}, which is
 * the main thread's {@code sched_getaffinity} mask. It is narrower than the NUMA node when the process
 * was started under {@code taskset}, or in a Kubernetes Guaranteed pod under the kubelet's static CPU
 * manager (an exclusive cpuset that may be a part of a node). Read it before the worker pins anything:
 * pinning the main thread narrows what a later read would see.
 */
public final class AllowedCpus {
    private static final String FIELD = "Cpus_allowed_list:";

    private AllowedCpus() {}

    /** This process's allowed CPUs, from {@code /proc/self/status}. */
    public static BitSet ofThisProcess() {
        return fromStatus(Path.of("/proc/self/status"));
    }

    /** The {@code Cpus_allowed_list} of a {@code /proc/<pid>/status}-format file. */
    public static BitSet fromStatus(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith(FIELD)) {
                    BitSet cpus = NumaTopology.parseCpuList(line.substring(FIELD.length()).trim());
                    if (cpus.isEmpty()) {
                        throw new IllegalStateException(status + ": empty " + FIELD + " '" + line + "'");
                    }
                    return cpus;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + status, e);
        }
        throw new IllegalStateException(status + ": no " + FIELD + " line");
    }
}
