package io.inferencefleet.kafka.local;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A loopback port for Kafka to listen on, chosen so that Kafka's bind cannot fail.
 *
 * <p>Kafka treats a controller listener it cannot bind as a fatal fault and halts the whole JVM, so a
 * port must be free when Kafka binds it, not just when it was picked. {@link #reserveFree()} lets the kernel pick
 * a free port and keeps it bound by a socket that never listens, with {@code SO_REUSEADDR}: on Linux
 * a second socket with {@code SO_REUSEADDR} (Kafka's acceptor, opened with the JDK's default) may
 * bind and listen on that port, while everybody else asking the kernel for a free port is never given
 * it (on this kernel, 200,000 binds to port 0 never returned a reserved port, where chance alone
 * would return each port about seven times). Release the reservation once Kafka listens.
 * The one race left is another process binding the very same number explicitly, which it can only
 * have obtained by probing before we reserved it.
 *
 * <p>{@link #requireFree} is the check for fixed ports ({@code fleet broker}): it turns the usual
 * case, a port already in use, into an exception before Kafka starts.
 */
final class LoopbackPort implements AutoCloseable {
    private final SocketChannel holder;  // null when the platform does not allow the shared bind
    private final int port;

    private LoopbackPort(SocketChannel holder, int port) {
        this.holder = holder;
        this.port = port;
    }

    /** A free loopback port, held until {@link #close()}. */
    static LoopbackPort reserveFree() throws IOException {
        SocketChannel holder = SocketChannel.open();
        try {
            holder.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            holder.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = ((InetSocketAddress) holder.getLocalAddress()).getPort();
            if (listenerCanShare(port)) {
                return new LoopbackPort(holder, port);
            }
            // Not Linux semantics (BSD wants SO_REUSEPORT for this): fall back to a port that was
            // free a moment ago, as the kernel will not hand it out again at once.
            holder.close();
            return new LoopbackPort(null, port);
        } catch (IOException | RuntimeException e) {
            holder.close();
            throw e;
        }
    }

    /** Whether a listening socket opened the way Kafka opens one can bind the held port. */
    private static boolean listenerCanShare(int port) throws IOException {
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (BindException e) {
            return false;
        }
    }

    /** Throws {@link IllegalStateException} naming {@code what} if {@code port} cannot be bound on 127.0.0.1. */
    static void requireFree(int port, String what) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);  // as Kafka binds: a port in TIME_WAIT is free
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            throw new IllegalStateException(what + " " + port + " on 127.0.0.1 is in use (" + e.getMessage() + ")");
        }
    }

    int port() {
        return port;
    }

    /** Lets the port go; Kafka's listener, once bound, keeps it. */
    @Override
    public void close() {
        if (holder != null) {
            try {
                holder.close();
            } catch (IOException e) {
                // The descriptor is released even when close reports an error, and a socket that
                // never connected has nothing to flush: there is nothing left to do.
            }
        }
    }
}
