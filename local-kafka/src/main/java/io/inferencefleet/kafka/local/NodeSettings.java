package io.inferencefleet.kafka.local;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The settings of one combined broker-and-controller KRaft node on loopback, for a cluster of
 * {@code n} such nodes with node ids 1..n ({@link SingleNodeKafka}: n = 1; {@link LocalKafkaCluster}:
 * n = 3). The one place that decides replication: every topic, internal ones included, gets
 * {@code min(n, 3)} replicas and needs {@code min(n, 2)} in sync, so a three-node cluster keeps
 * accepting {@code acks=all} writes, group commits included, while any one node is down.
 */
final class NodeSettings {
    private NodeSettings() {}

    /**
     * @param nodeId 1..{@code clientPorts.size()}
     * @param clientPorts every node's client port, node 1 first
     * @param controllerPorts every node's controller (KRaft) port, node 1 first
     */
    static Properties combinedNode(int nodeId, Path data, List<Integer> clientPorts, List<Integer> controllerPorts) {
        int n = clientPorts.size();
        if (controllerPorts.size() != n || nodeId < 1 || nodeId > n) {
            throw new IllegalArgumentException("node " + nodeId + " of client ports " + clientPorts
                    + " and controller ports " + controllerPorts);
        }
        String replicas = Integer.toString(Math.min(n, 3));
        String minInSync = Integer.toString(Math.min(n, 2));
        int port = clientPorts.get(nodeId - 1);
        int controllerPort = controllerPorts.get(nodeId - 1);
        Map<String, String> s = new LinkedHashMap<>();
        s.put("process.roles", "broker,controller");
        s.put("node.id", Integer.toString(nodeId));
        // A static voter set: the controllers' addresses live in this file, not in the formatted
        // metadata, so changing the ports later only needs a restart.
        s.put("controller.quorum.voters", IntStream.range(0, n)
                .mapToObj(i -> (i + 1) + "@127.0.0.1:" + controllerPorts.get(i)).collect(Collectors.joining(",")));
        s.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        s.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        s.put("controller.listener.names", "CONTROLLER");
        s.put("inter.broker.listener.name", "PLAINTEXT");
        s.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        s.put("log.dirs", data.toAbsolutePath().toString());
        s.put("offsets.topic.replication.factor", replicas);
        s.put("transaction.state.log.replication.factor", replicas);
        s.put("transaction.state.log.min.isr", minInSync);
        s.put("share.coordinator.state.topic.replication.factor", replicas);
        s.put("share.coordinator.state.topic.min.isr", minInSync);
        s.put("default.replication.factor", replicas);
        s.put("min.insync.replicas", minInSync);
        // A group of one worker should not wait 3 s for others to join.
        s.put("group.initial.rebalance.delay.ms", "0");
        s.put("auto.create.topics.enable", "true");
        s.put("num.partitions", "1");
        Properties props = new Properties();
        props.putAll(s);
        return props;
    }
}
