package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.rollout.RoleStatus;
import dev.steelyard.view.SubsetRole;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rollout flows run from the console's Flows page in headless Chromium, on the demo workload
 * driver (real local backends per role and version, started and stopped by the flow) with
 * grpc-java's xDS client watching where its RPCs go. Main starts with 4 replicas at v1.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleFlowsBrowserTest {

  private static final int RPCS = 4_000;

  private ConsoleBrowser browser;
  private DemoRollouts demo;
  private XdsTestClient client;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    browser = ConsoleBrowser.startOrSkip();
    demo = new DemoRollouts(dir, 4);
    client = new XdsTestClient(demo.xdsPort, "console-flows-client", "hello-app");
    assertThat(client.countVersions(100)).containsExactly(Map.entry("main@v1", 100));
  }

  @AfterAll
  void stop() {
    if (client != null) {
      client.close();
    }
    if (demo != null) {
      demo.close();
    }
    if (browser != null) {
      browser.close();
    }
  }

  private void openFlows() {
    browser.open(demo.admin() + "/#/flows/default/hello-app");
  }

  /** Clicks an action, checks its confirmation names {@code what}, and confirms. */
  private void confirmed(String button, String what) {
    browser.click(button);
    browser.textContains("#flow-confirm", what);
    browser.click("#flow-confirm-go");
  }

  @Test
  @Order(1)
  void aCanaryDeployStartedFromThePageWalksItsStepsToPromotion() throws Exception {
    openFlows();
    browser.textContains("#flow-status", "No flow has run for this app yet.");
    browser.type("#start-version", "v2");
    browser.type("#start-steps", "10, 50");
    browser.click("#start-review");
    String confirmation = browser.textContains("#flow-confirm", "Start this flow?");
    assertThat(confirmation).contains("Canary deploy of default/hello-app to v2, judged by manual "
        + "approval.", "Weights per step (main / baseline / canary): 80/10/10, 0/50/50",
        "{\"kind\":\"deploy\",\"version\":\"v2\",\"steps\":[10,50],\"judgment\":{\"type\":\"manual\"}}");
    assertThat(demo.send("GET", demo.rolloutPath(), null).statusCode())
        .as("nothing starts before the confirmation").isEqualTo(404);
    browser.click("#flow-confirm-go");

    browser.textContains("#flow-waiting", "approval of step 1");
    assertThat(browser.visible("#flow-timeline [aria-current='step']").getText())
        .isEqualTo("step 1: 10 %");
    browser.textContains("#flow-acks", "grpc 1/1");
    assertThat(browser.visible("#flow-weights").getText()).contains("set by the flow 80 % 10 % 10 %");
    assertThat(browser.visible("#flow-workloads tr[data-role='canary']").getText())
        .isEqualTo("canary 1 × v2 1 at v2 1");
    Binomial.assertSplit(client.count(RPCS), RPCS, 0.8, 0.1, 0.1);
    browser.screenshot("flows");

    confirmed("#flow-approve", "Approve step 1");
    browser.textContains("#flow-waiting", "approval of step 2");
    browser.textContains("#flow-verdicts", "step 1: continue");
    Binomial.assertSplit(client.count(RPCS), RPCS, 0, 0.5, 0.5);

    confirmed("#flow-approve", "Approve step 2");
    browser.textContains("#flow-phase", "promoted");
    assertThat(browser.visible("#flow-timeline [aria-current='step']").getText())
        .isEqualTo("promote: main runs v2");
    assertThat(client.countVersions(RPCS)).containsExactly(Map.entry("main@v2", RPCS));
    assertThat(demo.workloads.status(DemoRollouts.APP, SubsetRole.MAIN))
        .isEqualTo(new RoleStatus("v2", 4, 4));
    // History comes as the API has it: every field of every entry is a column.
    String history = browser.textContains("#history-table", "approve");
    assertThat(browser.texts("#history-table th")).contains("at", "flowId", "event", "detail",
        "by", "acks");
    assertThat(history).contains("promoted");
  }

  @Test
  @Order(2)
  void rollBackFromThePageAfterPromotion() throws Exception {
    openFlows();
    browser.textContains("#flow-phase", "promoted");
    confirmed("#flow-rollback", "Roll back default/hello-app to v1?");
    browser.textContains("#flow-phase", "rolled-back");
    assertThat(client.countVersions(RPCS)).containsExactly(Map.entry("main@v1", RPCS));
    assertThat(browser.driver.findElements(org.openqa.selenium.By.id("flow-abort")))
        .as("no actions on an ended flow").isEmpty();
  }

  @Test
  @Order(3)
  void aCanaryTestStartedFromThePageTakesANewWeightAndEnds() throws Exception {
    openFlows();
    browser.click("#start-kind-test");
    browser.type("#start-version", "v3");
    browser.type("#start-weight", "5");
    browser.click("#start-review");
    browser.textContains("#flow-confirm", "main 95 %, canary 5 %");
    browser.click("#flow-confirm-go");
    browser.textContains("#flow-phase", "test-running");
    browser.textContains("#flow-acks", "grpc 1/1");
    Binomial.assertSplit(client.count(RPCS), RPCS, 0.95, 0, 0.05);

    browser.type("#flow-test-weight", "60");
    confirmed("#flow-set-weight", "Set the canary test weight");
    browser.textContains("#flow-action-error", "above the cap of 50 %");
    assertThat(browser.visible("#flow-action-error").getText()).startsWith("Refused: HTTP 400: ");

    browser.type("#flow-test-weight", "20");
    confirmed("#flow-set-weight", "Set the canary test weight");
    browser.textContains("#flow-timeline", "canary test at 20 %");
    browser.textContains("#flow-acks", "grpc 1/1");
    Binomial.assertSplit(client.count(RPCS), RPCS, 0.8, 0, 0.2);

    confirmed("#flow-end", "End the canary test");
    browser.textContains("#flow-phase", "test-ended");
    assertThat(client.countVersions(RPCS)).containsExactly(Map.entry("main@v1", RPCS));
    assertThat(demo.workloads.status(DemoRollouts.APP, SubsetRole.CANARY).replicas()).isZero();
  }

  @Test
  @Order(4)
  void anAutomaticJudgmentStartedFromThePageShowsItsVerdictAndEvidence() throws Exception {
    // No client sends RPCs in between, so the canary gets no traffic: NoData, which this
    // analysis turns into a rollback, with the (empty) evidence on the page.
    openFlows();
    browser.type("#start-version", "v4");
    browser.type("#start-steps", "10");
    new org.openqa.selenium.support.ui.Select(browser.driver.findElement(
        org.openqa.selenium.By.id("start-judgment"))).selectByValue("automatic");
    browser.type("#start-window", "PT2S");
    browser.type("#start-analysis", "{\"maxWait\": \"PT1S\", \"onNoData\": \"rollback\"}");
    browser.click("#start-review");
    browser.textContains("#flow-confirm", "judged by the automatic judge over PT2S per step");
    browser.click("#flow-confirm-go");
    browser.textContains("#flow-phase", "rolled-back");
    browser.textContains("#flow-verdicts", "NoData");
    assertThat(browser.visible("#flow-evidence").getText()).contains("Evidence of the newest "
        + "verdict", "window");
    assertThat(demo.workloads.status(DemoRollouts.APP, SubsetRole.CANARY).replicas()).isZero();
  }
}
