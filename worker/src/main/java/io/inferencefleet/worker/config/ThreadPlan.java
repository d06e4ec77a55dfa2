package io.inferencefleet.worker.config;

/**
 * How many threads of each kind one pipeline runs, and how predictor threads are pinned.
 *
 * <p>{@link #recommended(int)} is what {@code auto} means. It comes from the Pareto sweep in
 * {@code benchmarks/results/fleet-report-*.md} (predictor x math x decoder threads x pinning on a
 * 2-vCPU node, ResNet-50): one single-threaded predictor per CPU gave the highest sustained
 * throughput and no worse p99 at equal load than fewer predictors with more math threads, because
 * Paddle's intra-op threads scale sub-linearly on small batch-1 convolutions (2 math threads: 0.65x
 * the latency of 1, i.e. 1.54x the speed for 2x the CPU) while independent predictors scale by 2.0x.
 * One decoder per predictor keeps up: decoding is about 5 % of an image's CPU.
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
