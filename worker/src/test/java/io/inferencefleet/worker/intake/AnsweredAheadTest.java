package io.inferencefleet.worker.intake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class AnsweredAheadTest {
    @Test
    void answeredOffsetsAboveTheCommittedOneSurviveTheRoundTrip() {
        Set<Long> answered = Set.of(1_000_001L, 1_000_007L, 1_000_008L, 1_000_100L);
        String metadata = AnsweredAhead.encode(1_000_000, answered);
        assertTrue(metadata.startsWith("if1:"), metadata);
        assertEquals(new TreeSet<>(answered), AnsweredAhead.decode(1_000_000, metadata));
    }

    @Test
    void nothingAnsweredAboveIsEmptyMetadata() {
        assertEquals("", AnsweredAhead.encode(5, List.of()));
        assertEquals("", AnsweredAhead.encode(5, List.of(3L, 4L)), "below the committed offset: covered by it");
        assertEquals(Set.of(), AnsweredAhead.decode(5, ""));
        assertEquals(Set.of(), AnsweredAhead.decode(5, null));
    }

    @Test
    void metadataOfAnotherFormSaysNothingIsAnswered() {
        assertEquals(Set.of(), AnsweredAhead.decode(5, "written by some other tool"));
    }

    @Test
    void theWholeSpanFitsTheBrokersDefaultMetadataLimitAndOffsetsBeyondItAreLeftOut() {
        List<Long> all = LongStream.range(0, AnsweredAhead.MAX_SPAN + 10).boxed().toList();
        String metadata = AnsweredAhead.encode(0, all);
        assertTrue(metadata.length() <= 4096, "offset.metadata.max.bytes defaults to 4096: " + metadata.length());
        Set<Long> decoded = AnsweredAhead.decode(0, metadata);
        assertEquals(AnsweredAhead.MAX_SPAN, decoded.size());
        assertEquals(AnsweredAhead.MAX_SPAN - 1L, ((TreeSet<Long>) decoded).last());
    }

    @Test
    void metadataOfOurFormThatDoesNotDecodeIsRefusedNamingWhatIsWrong() {
        IllegalArgumentException notBase64 = assertThrows(IllegalArgumentException.class,
                () -> AnsweredAhead.decode(0, "if1:***"));
        assertTrue(notBase64.getMessage().contains("not base64url"), notBase64.getMessage());
        String tooLong = "if1:" + "A".repeat(AnsweredAhead.MAX_SPAN / 8 * 4 / 3 + 8);
        IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class, () -> AnsweredAhead.decode(0, tooLong));
        assertTrue(tooMany.getMessage().contains("more than " + AnsweredAhead.MAX_SPAN), tooMany.getMessage());
    }
}
