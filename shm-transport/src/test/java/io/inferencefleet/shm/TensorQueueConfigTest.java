package io.inferencefleet.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class TensorQueueConfigTest {
    @Test
    void defaultsLiveUnderDevShmPerWorker() {
        TensorQueueConfig c = TensorQueueConfig.builder().workerId("w7").build();
        assertEquals(Path.of("/dev/shm/inference-fleet/w7"), c.directory());
        assertEquals(List.of("predictor"), c.readerNames());
        assertEquals(1000, c.rollCycleMs());
    }

    @Test
    void errorsNameTheKeyAndTheValue() {
        assertMessage("Invalid value 0 for capacityTensors: must be at least 1", TensorQueueConfig.builder().capacityTensors(0));
        assertMessage("Invalid value 100 for capacityBytes: must hold at least one tensor of maxTensorBytes=602112",
                TensorQueueConfig.builder().capacityBytes(100));
        assertMessage("Invalid value 1500 for rollCycleMs: must be one of [1000, 300000, 600000]",
                TensorQueueConfig.builder().rollCycleMs(1500));
        assertMessage("Invalid value a/b for workerId: must be 1-64 characters of [A-Za-z0-9._-]",
                TensorQueueConfig.builder().workerId("a/b"));
        assertMessage("Invalid value -1 for idleParkNs: must be in [0, 1000000000]", TensorQueueConfig.builder().idleParkNs(-1));
        assertMessage("Invalid value 16777216 for maxTensorBytes: must be in [1, 8388608] (a tensor must fit one mapping overlap)",
                TensorQueueConfig.builder().maxTensorBytes(16 << 20));
        assertMessage("Invalid value [] for readerNames: must name 1-16 readers", TensorQueueConfig.builder().readerNames());
    }

    private static void assertMessage(String expected, TensorQueueConfig.Builder builder) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, builder::build);
        assertEquals(expected, e.getMessage());
    }
}
