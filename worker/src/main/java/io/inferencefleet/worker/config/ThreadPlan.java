package io.inferencefleet.worker.config;

/**
 * How many threads of each kind one pipeline runs, and how predictor threads are pinned.
 *
 * <p>{@link #recommended(int)} is what {@code auto} means: one single-threaded predictor per CPU,
 * one decoder per predictor, no per-CPU pinning. It is the recommendation of the Pareto sweep in
 * {@code benchmarks/results/fleet-report-<date>/report.md} (predictor x math x decoder threads x
 * pinning, ResNet-50, 2 vCPUs): independent predictors scale by 2.0x on 2 CPUs while a second math
 * thread in one predictor gives 1.5x, and two multi-threaded predictors share Paddle's process-wide
 * OpenBLAS pool badly (P2 M2 ran at about 60 % of P2 M1). More decoders and per-CPU pinning gained
 * nothing beyond run-to-run noise. Fewer, multi-threaded predictors (P1 M2) cut the latency of a
 * single image by about a quarter for about 25 % less throughput: set {@code math.threads} for that.
 */
public record ThreadPlan(int predictors, int mathThreads, int decoders, Pinning pinning) {

    /** Where predictor threads (and the Paddle math threads they start) may run. */
    public enum Pinning {
        /** Every thread of the worker on its NUMA node's CPUs; the OS places threads within the node. */
        NODE,
        /** As NODE, and predictor i additionally on the node's i-th CPU (round-robin). */
        CPU;

        public static Pinning parse(String value) {
            return valueOf(value.toUpperCase(java.util.Locale.ROOT));
        }
    }

    public ThreadPlan {
        if (predictors < 1 || mathThreads < 1 || decoders < predictors) {
            throw new IllegalArgumentException("Invalid thread plan " + predictors + " predictors x " + mathThreads
                    + " math threads, " + decoders + " decoders: every predictor needs at least one decoder");
        }
    }

    /** The {@code auto} plan for a pipeline that owns {@code cpus} CPUs. */
    public static ThreadPlan recommended(int cpus) {
        int predictors = Math.max(1, cpus);
        return new ThreadPlan(predictors, 1, predictors, Pinning.NODE);
    }

    @Override
    public String toString() {
        return predictors + " predictors x " + mathThreads + " math threads, " + decoders + " decoders, pinning "
                + pinning.name().toLowerCase(java.util.Locale.ROOT);
    }
}
