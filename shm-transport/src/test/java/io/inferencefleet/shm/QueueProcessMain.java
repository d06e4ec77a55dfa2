package io.inferencefleet.shm;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.agrona.concurrent.IdleStrategy;

/**
 * The other process of cross-process tests. Modes:
 * <ul>
 *   <li>{@code read DIR N}: attach, read N tensors, print "read=N sum=S aligned=true" and exit;
 *   <li>{@code own DIR halt|wait}: own DIR, write 3 tensors, print "owning pid=P", then either
 *       halt without any cleanup (a crash) or wait for a line on stdin and close.
 * </ul>
 */
public final class QueueProcessMain {
    private QueueProcessMain() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        TensorQueueConfig config = TensorQueueConfig.builder().directory(dir).capacityTensors(16).build();
        switch (args[0]) {
            case "read" -> read(config, Integer.parseInt(args[2]));
            case "own" -> own(config, args[2]);
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static void read(TensorQueueConfig config, int n) {
        try (TensorQueue queue = TensorQueue.attach(config); TensorReader reader = queue.reader("predictor")) {
            IdleStrategy idle = queue.newReaderIdleStrategy();
            long[] sum = {0};
            boolean[] aligned = {true};
            int read = 0;
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (read < n && System.nanoTime() < deadline) {
                int got = reader.poll(view -> {
                    aligned[0] &= (view.address() & 63) == 0;
                    sum[0] += TestTensors.checksum(view.buffer()) + view.sourceOffset();
                }, 8);
                read += got;
                idle.idle(got);
            }
            System.out.println("read=" + read + " sum=" + sum[0] + " aligned=" + aligned[0]);
        }
    }

    private static void own(TensorQueueConfig config, String then) throws Exception {
        TensorQueue queue = TensorQueue.open(config);
        TensorWriter writer = queue.writer();
        TensorClaim claim = writer.newClaim();
        for (int i = 0; i < 3; i++) {
            if (writer.tryClaim(4096, claim) == ClaimStatus.OK) {
                claim.commit();
            }
        }
        System.out.println("owning pid=" + ProcessHandle.current().pid());
        System.out.flush();
        if (then.equals("halt")) {
            Runtime.getRuntime().halt(3);
        }
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        queue.close();
    }
}
