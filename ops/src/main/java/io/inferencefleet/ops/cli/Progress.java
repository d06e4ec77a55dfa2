package io.inferencefleet.ops.cli;

import java.io.PrintWriter;

/**
 * A one-line textual progress bar, redrawn in place with {@code \r} at most every 100 ms:
 * {@code [##########..........]  12/24 sent  10 done  23.9/s}.
 */
final class Progress {
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final int total;
    private final String doneLabel;
    private final long startNanos = System.nanoTime();
    private long lastDrawNanos = Long.MIN_VALUE;
    private int sent;
    private int done;

    Progress(PrintWriter err, int total, String doneLabel) {
        this.err = err;
        this.total = total;
        this.doneLabel = doneLabel;
    }

    synchronized void sent() {
        sent++;
        maybeDraw(false);
    }

    synchronized void done() {
        done++;
        maybeDraw(false);
    }

    /** Draws the final state and ends the line. */
    synchronized void finish() {
        maybeDraw(true);
        err.println();
        err.flush();
    }

    private void maybeDraw(boolean force) {
        long now = System.nanoTime();
        if (!force && lastDrawNanos != Long.MIN_VALUE && now - lastDrawNanos < REDRAW_NANOS) {
            return;
        }
        lastDrawNanos = now;
        int filled = total == 0 ? WIDTH : (int) ((long) done * WIDTH / total);
        double seconds = Math.max(1e-9, (now - startNanos) / 1e9);
        err.printf("\r[%s%s] %d/%d sent  %d %s  %.1f/s", "#".repeat(filled), ".".repeat(WIDTH - filled), sent, total,
                done, doneLabel, sent / seconds);
        err.flush();
    }
}
