package io.inferencefleet.worker.fetch;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where images may be fetched from and how much may be read. Immutable and validated when built; each
 * {@code with*} returns a new config.
 *
 * <p>{@link #defaults()} allows nothing (no file roots, no hosts): every URI is refused with
 * {@link FetchStatus#FORBIDDEN_URI} until sources are allowed explicitly:
 *
 * <pre>{@code
 * FetchConfig config = FetchConfig.defaults()
 *         .withFileRoots(Path.of("/srv/images"))
 *         .withAllowedHosts("images.example.com", "cdn.example.com:8443")
 *         .withMaxImageBytes(8 << 20);
 * }</pre>
 *
 * <p>File roots must exist and are stored as real paths ({@link Path#toRealPath}), so a root given
 * through a symlink is compared by where it really is. Allowed hosts are exact, case-insensitive
 * names or IP literals; {@code host} allows any port on that host, {@code host:port} only that port.
 * IPv4 literals are written as dotted quads ({@code 10.0.0.7}), IPv6 literals in brackets:
 * {@code [::1]:8080}.
 *
 * <p><b>Names never lead to the machine itself.</b> Before every request, redirects included, the
 * URI's host is looked up (within {@link #readTimeoutMs()}), and the request is refused with
 * {@link FetchStatus#FORBIDDEN_URI}, naming the host and the address, if <em>any</em> address it
 * resolves to is
 * <ul>
 * <li>loopback ({@code 127.0.0.0/8}, {@code ::1}),</li>
 * <li>link-local ({@code 169.254.0.0/16}, which holds the cloud metadata service
 *     {@code 169.254.169.254}, and {@code fe80::/10}),</li>
 * <li>any-local or "this network" ({@code 0.0.0.0/8}, {@code ::}), or</li>
 * <li>multicast ({@code 224.0.0.0/4}, {@code ff00::/8}),</li>
 * </ul>
 * (an IPv4-compatible IPv6 address {@code ::a.b.c.d} is judged by its IPv4 part), unless that exact
 * address is itself on the list as an IP literal for the port ({@code 127.0.0.1:8080},
 * {@code [::1]}), or the host is {@code localhost} and {@code localhost} is on the list. So listing a
 * name allows what DNS says that name is, but never loopback, link-local, any-local or multicast
 * addresses behind your back: an operator who wants those lists them, or {@code localhost}, in
 * plain sight. Private ranges ({@code 10.0.0.0/8}, {@code 172.16.0.0/12}, {@code 192.168.0.0/16},
 * {@code fc00::/7}) are not refused: internal image servers are a normal deployment.
 */
public final class FetchConfig {
    public static final long DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
    public static final long DEFAULT_READ_TIMEOUT_MS = 5_000;
    /** 20 MiB: above any sane photo for a classifier, small enough that a few in flight do not hurt. */
    public static final int DEFAULT_MAX_IMAGE_BYTES = 20 << 20;
    /** We read one byte past the limit to detect "too large", and Java arrays stop a little short of 2^31. */
    public static final int MAX_MAX_IMAGE_BYTES = Integer.MAX_VALUE - 16;
    /**
     * Threads that read files: more than a worker's decoder lanes need at once for local disks, so that
     * healthy reads never queue, and few enough that files which block a thread for good (see
     * {@link #withFileReaderThreads}) cost a bounded number of threads.
     */
    public static final int DEFAULT_FILE_READER_THREADS = 16;
    public static final int MAX_FILE_READER_THREADS = 1024;

    private static final Pattern HOST_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");
    private static final Pattern IPV6_LITERAL = Pattern.compile("\\[[0-9a-f:.]+]");
    private static final Pattern IPV4_LITERAL = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");

    private final List<Path> fileRoots;
    /** Roots as given (absolute, normalised) plus their real paths: what a URI's path may start with. */
    private final List<Path> namedFileRoots;
    private final Set<String> allowedHosts;
    /** The IP literals among {@link #allowedHosts}, as {@link #addressKey} with or without " port". */
    private final Set<String> allowedAddresses;
    private final long connectTimeoutMs;
    private final long readTimeoutMs;
    private final int maxImageBytes;
    private final int fileReaderThreads;

    private FetchConfig(List<Path> fileRoots, List<Path> namedFileRoots, Set<String> allowedHosts, long connectTimeoutMs,
                        long readTimeoutMs, int maxImageBytes, int fileReaderThreads) {
        check(connectTimeoutMs >= 1, "connectTimeoutMs", connectTimeoutMs, "must be positive");
        check(readTimeoutMs >= 1, "readTimeoutMs", readTimeoutMs, "must be positive");
        check(maxImageBytes >= 1 && maxImageBytes <= MAX_MAX_IMAGE_BYTES, "maxImageBytes", maxImageBytes,
                "must be between 1 and " + MAX_MAX_IMAGE_BYTES);
        check(fileReaderThreads >= 1 && fileReaderThreads <= MAX_FILE_READER_THREADS, "fileReaderThreads",
                fileReaderThreads, "must be between 1 and " + MAX_FILE_READER_THREADS);
        this.fileRoots = List.copyOf(fileRoots);
        this.namedFileRoots = List.copyOf(namedFileRoots);
        this.allowedHosts = Set.copyOf(allowedHosts);
        this.allowedAddresses = literalAddresses(this.allowedHosts);
        this.connectTimeoutMs = connectTimeoutMs;
        this.readTimeoutMs = readTimeoutMs;
        this.maxImageBytes = maxImageBytes;
        this.fileReaderThreads = fileReaderThreads;
    }

    /** No file roots, no hosts (everything refused), 2 s connect, 5 s per fetch, 20 MiB, 16 file readers. */
    public static FetchConfig defaults() {
        return new FetchConfig(List.of(), List.of(), Set.of(), DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_READ_TIMEOUT_MS,
                DEFAULT_MAX_IMAGE_BYTES, DEFAULT_FILE_READER_THREADS);
    }

    /** Replaces the file roots; each must be an existing directory. No roots means no {@code file:} URIs. */
    public FetchConfig withFileRoots(Path... roots) {
        return withFileRoots(Arrays.asList(roots));
    }

    /** Replaces the file roots; each must be an existing directory. No roots means no {@code file:} URIs. */
    public FetchConfig withFileRoots(Collection<Path> roots) {
        List<Path> real = new ArrayList<>();
        Set<Path> named = new LinkedHashSet<>();
        for (Path root : roots) {
            check(root != null, "fileRoots", null, "a root may not be null");
            Path resolved;
            try {
                resolved = root.toRealPath();
            } catch (IOException e) {
                throw new IllegalArgumentException("Invalid value " + root + " for fileRoots: does not exist or is"
                        + " not readable (" + e + ")", e);
            }
            check(Files.isDirectory(resolved, LinkOption.NOFOLLOW_LINKS), "fileRoots", root,
                    "is not a directory (real path " + resolved + ")");
            if (!real.contains(resolved)) {
                real.add(resolved);
            }
            named.add(root.toAbsolutePath().normalize());
            named.add(resolved);
        }
        return new FetchConfig(real, new ArrayList<>(named), allowedHosts, connectTimeoutMs, readTimeoutMs, maxImageBytes,
                fileReaderThreads);
    }

    /** Replaces the allowed hosts ({@code host} or {@code host:port}). No hosts means no {@code http(s):} URIs. */
    public FetchConfig withAllowedHosts(String... hosts) {
        return withAllowedHosts(Arrays.asList(hosts));
    }

    /** Replaces the allowed hosts ({@code host} or {@code host:port}). No hosts means no {@code http(s):} URIs. */
    public FetchConfig withAllowedHosts(Collection<String> hosts) {
        Set<String> normalised = new LinkedHashSet<>();
        for (String host : hosts) {
            normalised.add(normaliseHostEntry(host));
        }
        return new FetchConfig(fileRoots, namedFileRoots, normalised, connectTimeoutMs, readTimeoutMs, maxImageBytes,
                fileReaderThreads);
    }

    /** Time allowed to open a TCP (and TLS) connection. */
    public FetchConfig withConnectTimeoutMs(long connectTimeoutMs) {
        return new FetchConfig(fileRoots, namedFileRoots, allowedHosts, connectTimeoutMs, readTimeoutMs, maxImageBytes,
                fileReaderThreads);
    }

    /**
     * Time allowed for a whole fetch, from the call to the result: for HTTP up to the last body byte,
     * redirects included; for {@code file:} the whole read, including waiting for a free file reader
     * thread. A fetch that takes longer is {@link FetchStatus#FETCH_TIMEOUT}.
     */
    public FetchConfig withReadTimeoutMs(long readTimeoutMs) {
        return new FetchConfig(fileRoots, namedFileRoots, allowedHosts, connectTimeoutMs, readTimeoutMs, maxImageBytes,
                fileReaderThreads);
    }

    /** Largest image accepted, in bytes; anything longer is {@link FetchStatus#TOO_LARGE}. */
    public FetchConfig withMaxImageBytes(int maxImageBytes) {
        return new FetchConfig(fileRoots, namedFileRoots, allowedHosts, connectTimeoutMs, readTimeoutMs, maxImageBytes,
                fileReaderThreads);
    }

    /**
     * Most threads reading files at once. File reads run on these threads so that the caller can give
     * up at {@link #readTimeoutMs()}; a thread blocked in the OS where Java cannot interrupt it (opening
     * a FIFO that no one writes, a hung network mount) stays blocked and is counted by
     * {@link ImageFetcher#stuckFileReaders()}. Once all of them are stuck, {@code file:} fetches fail at
     * once with {@link FetchStatus#FETCH_FAILED} instead of waiting out their deadline.
     */
    public FetchConfig withFileReaderThreads(int fileReaderThreads) {
        return new FetchConfig(fileRoots, namedFileRoots, allowedHosts, connectTimeoutMs, readTimeoutMs, maxImageBytes,
                fileReaderThreads);
    }

    /** Real paths of the directories {@code file:} URIs may point into (immutable). */
    public List<Path> fileRoots() {
        return fileRoots;
    }

    /** Normalised (lower-case) {@code host} and {@code host:port} entries (immutable). */
    public Set<String> allowedHosts() {
        return allowedHosts;
    }

    public long connectTimeoutMs() {
        return connectTimeoutMs;
    }

    public long readTimeoutMs() {
        return readTimeoutMs;
    }

    public int maxImageBytes() {
        return maxImageBytes;
    }

    public int fileReaderThreads() {
        return fileReaderThreads;
    }

    /**
     * The roots as configured and as real paths. A URI may name a file through either (a root given
     * as a symlink, such as a mounted volume, is then usable by its configured name); only the real
     * path after resolving decides whether the file is inside.
     */
    List<Path> namedFileRoots() {
        return namedFileRoots;
    }

    /**
     * Whether {@code host} (as {@link java.net.URI#getHost()} gives it, brackets kept for IPv6) on
     * {@code port} (the effective port, default already applied) is allowed.
     */
    boolean allowsHost(String host, int port) {
        String h = host.toLowerCase(Locale.ROOT);
        return allowedHosts.contains(h) || allowedHosts.contains(h + ':' + port);
    }

    /**
     * Why a request for {@code host} (already allowed by {@link #allowsHost}) may not go to
     * {@code address} on {@code port}, or null if it may: the rule in the class comment.
     */
    String refusesAddress(String host, int port, InetAddress address) {
        String kind = internalKind(address);
        if (kind == null) {
            return null;
        }
        String key = addressKey(address);
        if (allowedAddresses.contains(key) || allowedAddresses.contains(key + ' ' + port)
                || host.equalsIgnoreCase("localhost")) {
            return null;
        }
        return "host " + host + " resolves to " + kind + " address " + address.getHostAddress() + ", which only that"
                + " address as an IP literal in allowedHosts allows";
    }

    /**
     * Whether {@code host} (as {@link java.net.URI#getHost()} gives it) is an IP literal that
     * {@link InetAddress#getAllByName} parses without a lookup: bracketed IPv6 or a dotted quad.
     */
    static boolean isIpLiteral(String host) {
        return host.startsWith("[") || IPV4_LITERAL.matcher(host).matches();
    }

    /** "loopback", "link-local", "any-local" or "multicast" if {@code address} is one of those, else null. */
    static String internalKind(InetAddress address) {
        String kind = kindOf(address);
        if (kind == null && address instanceof Inet6Address && ((Inet6Address) address).isIPv4CompatibleAddress()) {
            byte[] bytes = address.getAddress();
            kind = kindOf(v4(bytes[12], bytes[13], bytes[14], bytes[15]));
        }
        return kind;
    }

    private static String kindOf(InetAddress a) {
        // 0.0.0.0/8 as a whole: Linux connects 0.0.0.0 to the local host, and newer kernels treat the rest as unicast.
        if (a.isAnyLocalAddress() || (a instanceof Inet4Address && a.getAddress()[0] == 0)) {
            return "any-local";
        }
        if (a.isLoopbackAddress()) {
            return "loopback";
        }
        if (a.isLinkLocalAddress()) {
            return "link-local";
        }
        if (a.isMulticastAddress()) {
            return "multicast";
        }
        return null;
    }

    /** Canonical text of the address bytes alone (no host name, no IPv6 scope), to compare addresses. */
    private static String addressKey(InetAddress address) {
        try {
            return InetAddress.getByAddress(address.getAddress()).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException("an address of " + address.getAddress().length + " bytes", e);
        }
    }

    private static Set<String> literalAddresses(Set<String> entries) {
        Set<String> keys = new LinkedHashSet<>();
        for (String entry : entries) {
            int close = entry.indexOf(']');
            int colon = close >= 0 ? (close + 1 < entry.length() ? close + 1 : -1) : entry.indexOf(':');
            String host = colon < 0 ? entry : entry.substring(0, colon);
            String port = colon < 0 ? "" : " " + entry.substring(colon + 1);
            InetAddress literal = parseLiteral(host, entry);
            if (literal != null) {
                keys.add(addressKey(literal) + port);
            }
        }
        return Set.copyOf(keys);
    }

    /** The address an IP literal entry names, without any DNS lookup; null for a name. */
    private static InetAddress parseLiteral(String host, String entry) {
        if (host.startsWith("[")) {
            try {
                // A bracketed literal is parsed, never looked up; an invalid one throws.
                return InetAddress.getByName(host);
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("Invalid value " + entry + " for allowedHosts: not a valid IPv6"
                        + " address", e);
            }
        }
        if (!IPV4_LITERAL.matcher(host).matches()) {
            return null;
        }
        String[] parts = host.split("\\.");
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            int octet = Integer.parseInt(parts[i]);
            check(octet <= 255, "allowedHosts", entry, "not a valid IPv4 address");
            bytes[i] = (byte) octet;
        }
        return v4(bytes[0], bytes[1], bytes[2], bytes[3]);
    }

    private static InetAddress v4(byte a, byte b, byte c, byte d) {
        try {
            return InetAddress.getByAddress(new byte[] {a, b, c, d});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // four bytes are always an address
        }
    }

    @Override
    public String toString() {
        return "FetchConfig{fileRoots=" + fileRoots + ", allowedHosts=" + allowedHosts + ", connectTimeoutMs="
                + connectTimeoutMs + ", readTimeoutMs=" + readTimeoutMs + ", maxImageBytes=" + maxImageBytes
                + ", fileReaderThreads=" + fileReaderThreads + '}';
    }

    private static String normaliseHostEntry(String entry) {
        check(entry != null, "allowedHosts", null, "a host may not be null");
        String e = entry.trim().toLowerCase(Locale.ROOT);
        String host = e;
        String port = null;
        int colon = e.lastIndexOf(':');
        if (e.startsWith("[")) {
            int close = e.indexOf(']');
            if (close > 0 && close < e.length() - 1) {
                check(e.charAt(close + 1) == ':', "allowedHosts", entry, "expected host or host:port");
                host = e.substring(0, close + 1);
                port = e.substring(close + 2);
            }
            check(IPV6_LITERAL.matcher(host).matches(), "allowedHosts", entry, "not a bracketed IPv6 literal");
        } else {
            if (colon >= 0) {
                check(e.indexOf(':') == colon, "allowedHosts", entry, "IPv6 literals need brackets, e.g. [::1]:8080");
                host = e.substring(0, colon);
                port = e.substring(colon + 1);
            }
            check(!host.contains("*"), "allowedHosts", entry, "exact host names only, no wildcards");
            check(HOST_NAME.matcher(host).matches(), "allowedHosts", entry,
                    "expected a host name or IP address, optionally with :port (no scheme, path or user)");
        }
        if (port == null) {
            return host;
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException ex) {
            p = -1;
        }
        check(p >= 1 && p <= 65535, "allowedHosts", entry, "port must be 1..65535");
        return host + ':' + p;
    }

    private static void check(boolean ok, String name, Object value, String why) {
        if (!ok) {
            throw new IllegalArgumentException("Invalid value " + value + " for " + name + ": " + why);
        }
    }
}
