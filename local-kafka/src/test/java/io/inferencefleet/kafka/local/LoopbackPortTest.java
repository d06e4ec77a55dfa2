package io.inferencefleet.kafka.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.ServerSocketChannel;
import org.junit.jupiter.api.Test;

/**
 * The property the ephemeral broker's port choice rests on (see {@link LoopbackPort}), checked on
 * the kernel the tests run on: a reserved port is not handed to others, yet Kafka's kind of
 * listener can take it.
 */
class LoopbackPortTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @Test
    void aReservedPortIsNeverGivenToAnotherBindButAListenerOpenedAsKafkaDoesCanTakeIt() throws Exception {
        try (LoopbackPort reserved = LoopbackPort.reserveFree()) {
            int port = reserved.port();
            // About 28,000 ports in Linux's default ephemeral range: 50,000 binds to port 0 would
            // return any unreserved port about twice on average.
            for (int i = 0; i < 50_000; i++) {
                try (ServerSocket other = new ServerSocket(0, 1, LOOPBACK)) {
                    assertNotEquals(port, other.getLocalPort(), "bind number " + i + " was given the reserved port");
                }
            }
            try (ServerSocketChannel kafkaLike = ServerSocketChannel.open()) {  // the JDK's defaults, as Kafka opens it
                kafkaLike.bind(new InetSocketAddress(LOOPBACK, port));
                assertEquals(port, ((InetSocketAddress) kafkaLike.getLocalAddress()).getPort());
                // Listening now: the check used for fixed ports reports the port as taken.
                var busy = assertThrows(IllegalStateException.class, () -> LoopbackPort.requireFree(port, "client port"));
                assertTrue(busy.getMessage().startsWith("client port " + port + " on 127.0.0.1 is in use"), busy.getMessage());
            }
        }
    }
}
