package io.inferencefleet.ops.fleet;

import java.time.Duration;

/**
 * When the {@link Supervisor} restarts a child that died: after a backoff that doubles with each
 * quick death ({@code initialBackoff}, 2×, 4×, … up to {@code maxBackoff}; a child that ran at least
 * {@code stableAfter} starts again from {@code initialBackoff}), and at most {@code maxRestarts}
 * times within any {@code window}, after which the slot is given up.
 */
public record RestartPolicy(Duration initialBackoff, Duration maxBackoff, int maxRestarts, Duration window,
                            Duration stableAfter) {

    /** 1 s doubling to 30 s, at most 5 restarts a minute, 30 s of uptime counts as stable. */
    public static RestartPolicy defaults() {
        return new RestartPolicy(Duration.ofSeconds(1), Duration.ofSeconds(30), 5, Duration.ofMinutes(1),
                Duration.ofSeconds(30));
    }

    public RestartPolicy {
        if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("backoff must satisfy 0 <= initial (" + initialBackoff + ") <= max ("
                    + maxBackoff + ")");
        }
        if (maxRestarts < 0) {
            throw new IllegalArgumentException("Invalid value " + maxRestarts + " for max restarts: must be >= 0");
        }
    }

    public RestartPolicy withMaxRestarts(int restarts) {
        return new RestartPolicy(initialBackoff, maxBackoff, restarts, window, stableAfter);
    }

    /** Backoff before the restart that follows {@code quickDeaths} consecutive quick deaths (1 or more). */
    public Duration backoff(int quickDeaths) {
        long ms = initialBackoff.toMillis();
        for (int i = 1; i < quickDeaths && ms < maxBackoff.toMillis(); i++) {
            ms *= 2;
        }
        return Duration.ofMillis(Math.min(ms, maxBackoff.toMillis()));
    }
}
