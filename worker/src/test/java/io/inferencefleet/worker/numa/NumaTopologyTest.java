package io.inferencefleet.worker.numa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NumaTopologyTest {
    @Test
    void readsNodesFromASysLikeDirectory(@TempDir Path sys) throws Exception {
        Files.createDirectories(sys.resolve("node0"));
        Files.writeString(sys.resolve("node0/cpulist"), "0-3,8-11\n");
        Files.createDirectories(sys.resolve("node1"));
        Files.writeString(sys.resolve("node1/cpulist"), "4-7,12-15\n");
        Files.createDirectories(sys.resolve("power"));
        NumaTopology topology = NumaTopology.fromSys(sys);
        assertEquals(2, topology.nodes().size());
        assertEquals(NumaTopology.parseCpuList("4-7,12-15"), topology.cpus(1));
        assertEquals("0:0,1,2,3,8,9,10,11;1:4,5,6,7,12,13,14,15", topology.toString());
    }

    @Test
    void withoutNodeDirectoriesOneNodeHoldsEveryCpu(@TempDir Path empty) {
        BitSet cpus = NumaTopology.fromSys(empty.resolve("missing")).cpus(0);
        assertEquals(Runtime.getRuntime().availableProcessors(), cpus.cardinality());
    }

    @Test
    void thisMachineHasAtLeastOneNode() {
        assertTrue(NumaTopology.detect().cpus(0).cardinality() >= 1);
    }

    @Test
    void injectedTopologiesAndErrors() {
        NumaTopology two = NumaTopology.parse("0:0;1:1");
        assertEquals(1, two.cpus(1).nextSetBit(0));
        IllegalArgumentException noNode = assertThrows(IllegalArgumentException.class, () -> two.cpus(2));
        assertEquals("Invalid value 2 for numa.node: this machine has nodes [0, 1]", noNode.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NumaTopology.parse("0-1"));
        assertThrows(IllegalArgumentException.class, () -> NumaTopology.parse("0:3-1"));
    }
}
