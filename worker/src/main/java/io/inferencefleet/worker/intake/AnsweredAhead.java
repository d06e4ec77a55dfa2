package io.inferencefleet.worker.intake;

import java.util.Base64;
import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;

/**
 * Exactly-once: which records above a partition's committed offset are answered already, written in
 * the commit's offset metadata ({@code OffsetAndMetadata.metadata()}), so that a result need not wait
 * for every earlier record of its partition before it can be written. The committed offset and this
 * set commit in the same transaction as the results they describe; whoever reads the partition next
 * skips those records instead of answering them again. (Confluent's parallel consumer keeps its
 * out-of-order progress in offset metadata the same way.)
 *
 * <p>Format: {@code "if1:"} and, in unpadded base64url, a bitmap whose bit {@code i} (byte
 * {@code i / 8}, least significant bit first) says that offset {@code committed + i} is answered.
 * At most {@link #MAX_SPAN} offsets, so the text stays under the broker's default
 * {@code offset.metadata.max.bytes} (4096): {@code 4 + ceil(512 × 4 / 3)} = 687 characters. Metadata
 * in any other form (empty, or written by another tool) means that nothing above the offset is answered.
 */
final class AnsweredAhead {
    /** Offsets above the committed one a commit can describe; a later answer waits until the committed offset moves up. */
    static final int MAX_SPAN = 4096;
    static final String PREFIX = "if1:";

    private AnsweredAhead() {}

    /** The metadata for {@code answered} (offsets in {@code [committed, committed + MAX_SPAN)}; others are left out). */
    static String encode(long committed, Collection<Long> answered) {
        int highest = -1;
        for (long offset : answered) {
            if (offset >= committed && offset - committed < MAX_SPAN) {
                highest = Math.max(highest, (int) (offset - committed));
            }
        }
        if (highest < 0) {
            return "";
        }
        byte[] bitmap = new byte[highest / 8 + 1];
        for (long offset : answered) {
            if (offset >= committed && offset - committed < MAX_SPAN) {
                int bit = (int) (offset - committed);
                bitmap[bit / 8] |= (byte) (1 << (bit % 8));
            }
        }
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bitmap);
    }

    /**
     * The answered offsets {@code metadata} describes above {@code committed}; empty for metadata of
     * another form. Throws {@link IllegalArgumentException} for metadata of this form that does not
     * decode (truncated or altered by hand), naming what is wrong: skipping records on a guess would lose them.
     */
    static Set<Long> decode(long committed, String metadata) {
        Set<Long> answered = new TreeSet<>();
        if (metadata == null || !metadata.startsWith(PREFIX)) {
            return answered;
        }
        byte[] bitmap;
        try {
            bitmap = Base64.getUrlDecoder().decode(metadata.substring(PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("offset metadata '" + abbreviate(metadata) + "' is not base64url: "
                    + e.getMessage(), e);
        }
        if (bitmap.length > MAX_SPAN / 8) {
            throw new IllegalArgumentException("offset metadata describes " + bitmap.length * 8L + " offsets, more than "
                    + MAX_SPAN);
        }
        for (int bit = 0; bit < bitmap.length * 8; bit++) {
            if ((bitmap[bit / 8] & (1 << (bit % 8))) != 0) {
                answered.add(committed + bit);
            }
        }
        return answered;
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }
}
