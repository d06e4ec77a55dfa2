package io.inferencefleet.worker.fetch;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Looks up the addresses of a host, as {@link InetAddress#getAllByName} does ({@link #SYSTEM}). A seam
 * so that tests can make an allowed name resolve to an internal address without touching DNS.
 */
interface HostResolver {
    HostResolver SYSTEM = InetAddress::getAllByName;

    /**
     * @param host a name or IP literal as {@link java.net.URI#getHost()} gives it (IPv6 in brackets)
     * @return at least one address
     * @throws UnknownHostException if the host has no address
     */
    InetAddress[] resolve(String host) throws UnknownHostException;
}
