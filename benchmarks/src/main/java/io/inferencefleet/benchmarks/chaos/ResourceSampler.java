package io.inferencefleet.benchmarks.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Samples, every {@value #PERIOD_MS} ms, the sum of VmRSS of the worker JVMs ({@code /proc/<pid>/status})
 * and the /dev/shm footprint: {@code du} of the run's own shm directory (allocated tmpfs pages, what
 * the workers' tensor queues cost), and the used space of the whole /dev/shm file system (statvfs;
 * other users' files included). Keeps the peaks.
 */
final class ResourceSampler implements AutoCloseable {
    static final long PERIOD_MS = 500;

    private final Supplier<List<Long>> pids;
    private final Path shmDir;
    private final FileStore shmStore;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "chaos-sampler");
        t.setDaemon(true);
        return t;
    });
    private volatile long peakRssBytes;
    private volatile int peakRssWorkers;
    private volatile long peakShmDirBytes;
    private volatile long peakShmFsBytes;
    private volatile long samples;

    /**
     * @param pids the worker pids now (read at each sample)
     * @param shmDir the directory under which the workers keep their tensor queues
     */
    ResourceSampler(Supplier<List<Long>> pids, Path shmDir) throws IOException {
        this.pids = pids;
        this.shmDir = shmDir;
        this.shmStore = Files.getFileStore(Path.of("/dev/shm"));
    }

    void start() {
        timer.scheduleAtFixedRate(this::sample, 0, PERIOD_MS, TimeUnit.MILLISECONDS);
    }

    private void sample() {
        try {
            List<Long> now = pids.get();
            long rss = 0;
            for (long pid : now) {
                rss += vmRssBytes(pid);
            }
            if (rss > peakRssBytes) {
                peakRssBytes = rss;
                peakRssWorkers = now.size();
            }
            peakShmDirBytes = Math.max(peakShmDirBytes, du(shmDir));
            peakShmFsBytes = Math.max(peakShmFsBytes, shmStore.getTotalSpace() - shmStore.getUnallocatedSpace());
            samples++;
        } catch (IOException | RuntimeException e) {
            // a process or file vanished between listing and reading: the next sample sees the new state
        }
    }

    static long vmRssBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"), StandardCharsets.UTF_8)) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // gone
        }
        return 0;
    }

    /** Allocated bytes under {@code dir} ({@code du -sk}); 0 when it does not exist. */
    static long du(Path dir) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try {
            Process p = new ProcessBuilder("du", "-sk", dir.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor(10, TimeUnit.SECONDS);
            return out.isEmpty() ? 0 : Long.parseLong(out.split("\\s+")[0]) * 1024;
        } catch (IOException | NumberFormatException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    long peakRssBytes() {
        return peakRssBytes;
    }

    /** How many worker JVMs made up the peak. */
    int peakRssWorkers() {
        return peakRssWorkers;
    }

    long peakShmDirBytes() {
        return peakShmDirBytes;
    }

    long peakShmFsBytes() {
        return peakShmFsBytes;
    }

    long samples() {
        return samples;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
