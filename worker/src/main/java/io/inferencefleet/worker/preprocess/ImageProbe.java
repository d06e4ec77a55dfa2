package io.inferencefleet.worker.preprocess;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Reads an encoded image's format and dimensions from its header, without decoding pixels, so that
 * oversized images are refused before OpenCV allocates them; checks that JPEG, PNG and WebP files end
 * where their format says they end (OpenCV decodes a truncated JPEG silently); counts a JPEG's scans
 * (each one costs the decoder a pass over the whole image); and refuses what OpenCV 4.9 would decode
 * into something we cannot use (GIF: no decoder; floating-point TIFF: not 8 or 16 bit).
 */
final class ImageProbe {
    /** Formats OpenCV decodes for us and we can probe. */
    enum Format { JPEG, PNG, BMP, TIFF, WEBP }

    /**
     * What the header says. {@code scans} counts a JPEG's SOS markers (0 for other formats).
     */
    record Result(PreprocessStatus status, Format format, long width, long height, int scans, String detail) {
        long pixels() {
            return width * height;
        }

        /** Long side over short side. */
        double aspectRatio() {
            return (double) Math.max(width, height) / Math.min(width, height);
        }
    }

    private ImageProbe() {}

    static Result probe(byte[] bytes) {
        if (bytes.length == 0) {
            return failure(PreprocessStatus.EMPTY, null, "no bytes");
        }
        if (startsWith(bytes, 'G', 'I', 'F', '8') && bytes.length >= 6 && bytes[5] == 'a') {
            // Named, not lumped with unknown bytes: senders of GIFs need to know to convert them.
            return failure(PreprocessStatus.UNSUPPORTED_FORMAT, null,
                    "GIF images are not supported (OpenCV 4.9 has no GIF decoder): send JPEG, PNG, WebP, BMP or TIFF");
        }
        Format format = sniff(bytes);
        if (format == null) {
            return failure(PreprocessStatus.UNSUPPORTED_FORMAT, null,
                    "not a JPEG, PNG, WebP, BMP or TIFF image (first bytes " + hex(bytes, 8) + ")");
        }
        if (!endsCompletely(format, bytes)) {
            // Checked first: a file cut inside its header is truncated too, not merely unreadable.
            return failure(PreprocessStatus.TRUNCATED, format,
                    format + " ends after " + bytes.length + " bytes, before " + (format == Format.WEBP
                            ? "the length its RIFF header gives" : "its end marker"));
        }
        if (format == Format.WEBP) {
            return probeWebp(bytes);
        }
        long width;
        long height;
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                return failure(PreprocessStatus.UNSUPPORTED_FORMAT, format, "no header reader for " + format);
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                width = reader.getWidth(0);
                height = reader.getHeight(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            return failure(PreprocessStatus.UNDECODABLE, format, "unreadable " + format + " header: " + e.getMessage());
        }
        if (width <= 0 || height <= 0) {
            return failure(PreprocessStatus.UNDECODABLE, format, format + " header gives " + width + "x" + height);
        }
        String unsupportedSamples = format == Format.TIFF ? unsupportedTiffSamples(bytes) : null;
        if (unsupportedSamples != null) {
            return new Result(PreprocessStatus.UNSUPPORTED_FORMAT, format, width, height, 0,
                    "TIFF samples are " + unsupportedSamples + "; only 8- and 16-bit integer images are supported");
        }
        int scans = format == Format.JPEG ? countJpegScans(bytes) : 0;
        return new Result(PreprocessStatus.OK, format, width, height, scans, null);
    }

    /**
     * What OpenCV would decode a TIFF into that we refuse, named ("32-bit float"), else null; from the first IFD's
     * SampleFormat (339), BitsPerSample (258) and PhotometricInterpretation (262) tags. Judged from the header
     * because OpenCV decodes a float colour TIFF into a float image we refuse anyway (after allocating 12 bytes per
     * pixel), fails on a float greyscale one with an assertion logged to stderr, and decodes LogLuv (what OpenCV
     * itself writes for float colour images) to float as well. Anything unexpected in the IFD gives null: the
     * decoder's depth check still applies.
     */
    static String unsupportedTiffSamples(byte[] b) {
        if (b.length < 8) {
            return null;
        }
        boolean little = b[0] == 'I';
        long ifd = u32(b, 4, little);
        if (ifd < 8 || ifd + 2 > b.length) {
            return null;
        }
        int entries = u16(b, (int) ifd, little);
        int sampleFormat = 1;
        int bits = 1;
        int photometric = -1;
        for (int i = 0; i < entries; i++) {
            int entry = (int) ifd + 2 + 12 * i;
            if (entry + 12 > b.length) {
                return null;
            }
            int tag = u16(b, entry, little);
            int type = u16(b, entry + 2, little);
            long count = u32(b, entry + 4, little);
            boolean isShort = type == 3;
            if (!(isShort || type == 4) || count < 1) {
                continue;  // the three tags we read are SHORTs (some writers use LONGs)
            }
            // Values that fit in 4 bytes sit in the entry itself, others at an offset. The first value is enough.
            boolean inline = count * (isShort ? 2 : 4) <= 4;
            long at = inline ? entry + 8 : u32(b, entry + 8, little);
            if (at + 4 > b.length) {
                return null;
            }
            long first = isShort ? u16(b, (int) at, little) : u32(b, (int) at, little);
            if (tag == 258) {
                bits = (int) Math.min(first, 1 << 16);
            } else if (tag == 262) {
                photometric = (int) Math.min(first, 1 << 16);
            } else if (tag == 339) {
                sampleFormat = (int) Math.min(first, 1 << 16);
            }
        }
        if (photometric == 32844 || photometric == 32845) {
            return "LogLuv-encoded (OpenCV decodes them to 32-bit float)";
        }
        if (sampleFormat == 3) {
            return bits + "-bit float";
        }
        if (bits > 16) {
            return bits + "-bit integer";
        }
        return null;
    }

    /**
     * Dimensions from the first chunk (ImageIO has no WebP reader): a lossy {@code VP8 } key frame, a lossless
     * {@code VP8L} header, or the canvas of an extended {@code VP8X} file. Animated WebP is refused: OpenCV 4.9
     * decodes only still images.
     */
    private static Result probeWebp(byte[] b) {
        if (b.length < 30) {
            return failure(PreprocessStatus.UNDECODABLE, Format.WEBP,
                    "WebP of " + b.length + " bytes has no image header");
        }
        String chunk = new String(b, 12, 4, java.nio.charset.StandardCharsets.US_ASCII);
        int data = 20;
        long width;
        long height;
        switch (chunk) {
            case "VP8 ":
                // 3-byte frame tag (bit 0 clear on a key frame), start code 9D 01 2A, then 14-bit width and height.
                if ((b[data] & 1) != 0 || (b[data + 3] & 0xFF) != 0x9D || (b[data + 4] & 0xFF) != 0x01
                        || (b[data + 5] & 0xFF) != 0x2A) {
                    return failure(PreprocessStatus.UNDECODABLE, Format.WEBP,
                            "WebP VP8 chunk does not start with a key frame");
                }
                width = le16(b, data + 6) & 0x3FFF;
                height = le16(b, data + 8) & 0x3FFF;
                break;
            case "VP8L":
                // Signature 0x2F, then width - 1 and height - 1 in 14 bits each.
                if ((b[data] & 0xFF) != 0x2F) {
                    return failure(PreprocessStatus.UNDECODABLE, Format.WEBP, "WebP VP8L chunk lacks its signature");
                }
                long bits = le32(b, data + 1);
                width = (bits & 0x3FFF) + 1;
                height = ((bits >> 14) & 0x3FFF) + 1;
                break;
            case "VP8X":
                // Flags (animation = 0x02), 3 reserved bytes, canvas width - 1 and height - 1 in 24 bits each.
                if ((b[data] & 0x02) != 0) {
                    return failure(PreprocessStatus.UNSUPPORTED_FORMAT, Format.WEBP,
                            "animated WebP is not supported (OpenCV 4.9 decodes still images only)");
                }
                width = le24(b, data + 4) + 1;
                height = le24(b, data + 7) + 1;
                break;
            default:
                return failure(PreprocessStatus.UNDECODABLE, Format.WEBP,
                        "WebP starts with chunk '" + chunk.replaceAll("[^ -~]", "?") + "', not VP8, VP8L or VP8X");
        }
        if (width <= 0 || height <= 0) {
            return failure(PreprocessStatus.UNDECODABLE, Format.WEBP, "WebP header gives " + width + "x" + height);
        }
        return new Result(PreprocessStatus.OK, Format.WEBP, width, height, 0, null);
    }

    /**
     * Counts the SOS (start of scan) markers by walking the marker segments and skipping each scan's entropy-coded
     * data (which ends at the first 0xFF not followed by 0x00, a restart marker or more 0xFF fill). Linear in the
     * file size and allocation-free; a broken structure stops the count (the decoder then judges the file).
     */
    static int countJpegScans(byte[] b) {
        int scans = 0;
        int i = 2;  // after SOI
        while (i + 1 < b.length) {
            if ((b[i] & 0xFF) != 0xFF) {
                return scans;
            }
            int marker = b[i + 1] & 0xFF;
            if (marker == 0xFF) {
                i++;  // fill byte before a marker
                continue;
            }
            if (marker == 0xD9) {
                return scans;  // EOI
            }
            if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                i += 2;  // TEM and RSTn stand alone, without a length
                continue;
            }
            if (i + 3 >= b.length) {
                return scans;
            }
            int length = ((b[i + 2] & 0xFF) << 8) | (b[i + 3] & 0xFF);
            if (length < 2) {
                return scans;
            }
            i += 2 + length;
            if (marker == 0xDA) {
                scans++;
                while (i + 1 < b.length) {
                    if ((b[i] & 0xFF) == 0xFF) {
                        int next = b[i + 1] & 0xFF;
                        if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
                            i += 2;  // a stuffed 0xFF data byte, or a restart marker inside the scan
                            continue;
                        }
                        if (next != 0xFF) {
                            break;  // the next marker segment
                        }
                    }
                    i++;
                }
            }
        }
        return scans;
    }

    private static Format sniff(byte[] b) {
        if (startsWith(b, 0xFF, 0xD8, 0xFF)) {
            return Format.JPEG;
        }
        if (startsWith(b, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
            return Format.PNG;
        }
        if (startsWith(b, 'B', 'M')) {
            return Format.BMP;
        }
        if (startsWith(b, 'I', 'I', 42, 0) || startsWith(b, 'M', 'M', 0, 42)) {
            return Format.TIFF;
        }
        if (startsWith(b, 'R', 'I', 'F', 'F') && b.length >= 12 && b[8] == 'W' && b[9] == 'E' && b[10] == 'B'
                && b[11] == 'P') {
            return Format.WEBP;
        }
        return null;
    }

    /**
     * JPEG must end with EOI (FF D9), PNG with an IEND chunk (trailing padding is tolerated); WebP must hold the
     * bytes its RIFF header announces.
     */
    private static boolean endsCompletely(Format format, byte[] b) {
        int end = b.length;
        while (end > 0 && (b[end - 1] == 0 || b[end - 1] == '\n' || b[end - 1] == '\r' || b[end - 1] == ' ')) {
            end--;
        }
        switch (format) {
            case JPEG:
                return end >= 2 && (b[end - 2] & 0xFF) == 0xFF && (b[end - 1] & 0xFF) == 0xD9;
            case PNG:
                // IEND chunk: length 0, type "IEND", 4-byte CRC.
                return end >= 12 && b[end - 8] == 'I' && b[end - 7] == 'E' && b[end - 6] == 'N' && b[end - 5] == 'D';
            case WEBP:
                // The RIFF size counts the bytes after itself (from offset 8).
                return b.length >= 8 + le32(b, 4);
            default:
                return true;  // BMP/TIFF: the decoder checks sizes against the header itself
        }
    }

    private static int u16(byte[] b, int at, boolean little) {
        return little ? le16(b, at) : (b[at] & 0xFF) << 8 | (b[at + 1] & 0xFF);
    }

    private static long u32(byte[] b, int at, boolean little) {
        return little ? le32(b, at)
                : (long) (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }

    private static int le16(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8;
    }

    private static long le24(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16;
    }

    private static long le32(byte[] b, int at) {
        return le24(b, at) | (long) (b[at + 3] & 0xFF) << 24;
    }

    private static boolean startsWith(byte[] b, int... prefix) {
        if (b.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if ((b[i] & 0xFF) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static Result failure(PreprocessStatus status, Format format, String detail) {
        return new Result(status, format, 0, 0, 0, detail);
    }

    private static String hex(byte[] b, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(n, b.length); i++) {
            sb.append(String.format("%02x", b[i] & 0xFF));
        }
        return sb.toString();
    }
}
