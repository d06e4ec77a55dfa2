package io.inferencefleet.worker.invariant;

import net.jqwik.api.Tag;

/**
 * The invariant of {@link EveryRecordGetsOneAnswerTest} with {@code delivery.guarantee=exactly-once}:
 * the same hostile records, each answered exactly once as a read_committed reader sees it, with the
 * results written inside transactions (ahead of slower records), dead-letter copies and refused
 * results included, and offsets committed to the end.
 */
@Tag("slow")
class EveryRecordGetsOneAnswerExactlyOnceTest extends EveryRecordGetsOneAnswerTest {
    @Override
    String guarantee() {
        return "exactly-once";
    }
}
