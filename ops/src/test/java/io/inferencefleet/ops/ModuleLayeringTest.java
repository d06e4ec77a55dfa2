package io.inferencefleet.ops;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The design's layering, checked on the compiled classes of every module (ops sees them all):
 * the producer side never reaches into the worker, and the worker reaches Paddle only through
 * {@code native}'s public API and tensors only through {@code shm-transport}'s.
 */
class ModuleLayeringTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.inferencefleet");
    }

    @Test
    void theProducerSideNeverImportsTheWorker() {
        noClasses().that().resideInAnyPackage("io.inferencefleet.messages..", "io.inferencefleet.client..")
                .should().dependOnClassesThat().resideInAnyPackage("io.inferencefleet.worker..", "io.inferencefleet.ops..")
                .check(classes);
    }

    @Test
    void nothingOutsideShmTransportUsesItsInternals() {
        noClasses().that().resideOutsideOfPackage("io.inferencefleet.shm..")
                .should().dependOnClassesThat().resideInAPackage("io.inferencefleet.shm.internal..")
                .check(classes);
    }

    @Test
    void theWorkerUsesNoPaddleFileFormatInternalsOrJniClasses() {
        noClasses().that().resideInAPackage("io.inferencefleet.worker..")
                .should().dependOnClassesThat().resideInAnyPackage("io.inferencefleet.paddle.model.proto..",
                        "io.inferencefleet.paddle.reference..")
                .orShould().dependOnClassesThat().haveSimpleName("PaddleNative")
                .check(classes);
    }

    @Test
    void lowerModulesDoNotDependOnHigherOnes() {
        noClasses().that().resideInAnyPackage("io.inferencefleet.paddle..", "io.inferencefleet.shm..")
                .should().dependOnClassesThat().resideInAnyPackage("io.inferencefleet.worker..", "io.inferencefleet.ops..",
                        "io.inferencefleet.client..", "io.inferencefleet.messages..")
                .check(classes);
    }

    @Test
    void stagesAnswerThroughTheJobPortNeverThroughAnotherStagesPackage() {
        // Intake and lanes answer through worker.job.Answers; only the launcher (worker.Worker) knows the publisher.
        noClasses().that().resideInAnyPackage("io.inferencefleet.worker.intake..", "io.inferencefleet.worker.lane..",
                        "io.inferencefleet.worker.fetch..", "io.inferencefleet.worker.preprocess..")
                .should().dependOnClassesThat().resideInAPackage("io.inferencefleet.worker.publish..")
                .check(classes);
        noClasses().that().resideInAPackage("io.inferencefleet.worker.publish..")
                .should().dependOnClassesThat().resideInAnyPackage("io.inferencefleet.worker.intake..",
                        "io.inferencefleet.worker.lane..")
                .check(classes);
        noClasses().that().resideInAPackage("io.inferencefleet.worker.job..")
                .should().dependOnClassesThat().resideInAnyPackage("io.inferencefleet.worker.intake..",
                        "io.inferencefleet.worker.lane..", "io.inferencefleet.worker.publish..")
                .check(classes);
    }
}
