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

    @Test
    void restrictingToTheAllowedCpusIntersectsEveryNodeAndDropsNodesLeftEmpty() {
        NumaTopology machine = NumaTopology.parse("0:0-3,8-11;1:4-7,12-15");
        NumaTopology across = machine.restrictedTo(NumaTopology.parseCpuList("2-5,12"));
        assertEquals("0:2,3;1:4,5,12", across.toString());
        assertEquals(java.util.Set.of(), machine.nodesWithout(across));

        NumaTopology oneNode = machine.restrictedTo(NumaTopology.parseCpuList("9"));
        assertEquals("0:9", oneNode.toString());
        assertEquals(java.util.Set.of(1), machine.nodesWithout(oneNode));
        assertTrue(machine.hasNode(1));
        assertTrue(!oneNode.hasNode(1));

        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> machine.restrictedTo(NumaTopology.parseCpuList("16-17")));
        assertTrue(none.getMessage().contains("allowed: 16-17"), none.getMessage());
    }

    @Test
    void theAllowedListIsReadFromAProcStatusFile(@TempDir Path dir) throws Exception {
        Path status = dir.resolve("status");
        Files.writeString(status, "Name:\tjava\nCpus_allowed:\t13\nCpus_allowed_list:\t0,2-3\nMems_allowed_list:\t0\n");
        assertEquals(NumaTopology.parseCpuList("0,2,3"), AllowedCpus.fromStatus(status));
        Files.writeString(status, "Name:\tjava\n");
        assertThrows(IllegalStateException.class, () -> AllowedCpus.fromStatus(status));
        assertEquals("0-1,4,6-8", NumaTopology.cpuList(NumaTopology.parseCpuList("0,1,4,6-8")));
    }

    @Test
    void withoutNodeDirectoriesTheOnlineCpusFormTheOneNode(@TempDir Path sys) throws Exception {
        // Before: CPUs 0..availableProcessors-1, which under taskset -c 1 named CPU 0 and left nothing allowed.
        Files.createDirectories(sys.resolve("cpu"));
        Files.writeString(sys.resolve("cpu/online"), "0-5\n");
        assertEquals(NumaTopology.parseCpuList("0-5"), NumaTopology.fromSys(sys.resolve("node")).cpus(0));
    }
}
