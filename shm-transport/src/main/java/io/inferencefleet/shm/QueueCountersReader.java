package io.inferencefleet.shm;

import io.inferencefleet.shm.internal.CountersFile;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a queue's counters from outside the owning process (queue depth, back-pressure events,
 * bytes written, each reader's progress, cycles deleted, bytes pre-faulted).
 *
 * <p>{@code java @jvm.options -cp shm-transport.jar:... io.inferencefleet.shm.QueueCountersReader /dev/shm/inference-fleet/worker-0}
 */
public final class QueueCountersReader {
    private QueueCountersReader() {}

    /** Label → value of every counter in the queue directory. */
    public static Map<String, Long> read(Path queueDirectory) {
        try (CountersFile file = CountersFile.attach(queueDirectory.resolve(CountersFile.FILE_NAME))) {
            Map<String, Long> values = new LinkedHashMap<>();
            file.reader().forEach((value, id, label) -> values.put(label, value));
            return values;
        }
    }

    public static void main(String[] args) {
        Path dir = Path.of(args.length > 0 ? args[0] : TensorQueueConfig.DEFAULT_ROOT.resolve("worker-0").toString());
        read(dir).forEach((label, value) -> System.out.println(label + "=" + value));
    }
}
