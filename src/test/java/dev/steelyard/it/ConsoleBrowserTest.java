package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.rollout.FlowStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.controlplane.cache.Resources;
import org.openqa.selenium.Keys;

/**
 * The web console in headless Chromium against a real server: role backends, the apps file, and
 * grpc-java's own xDS client, whose RPCs show the split the page set. One browser for the class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserTest {

  private static final int RPCS = 4_000;
  private static final String APP_PAGE = "/#/apps/default/hello-app";

  private ConsoleBrowser browser;
  private TestMesh mesh;
  private XdsTestClient client;
  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    browser = ConsoleBrowser.startOrSkip();
    mesh = new TestMesh(dir, new int[] {2, 1, 1}, Optional.empty());
    // Three more apps from the file (no backends behind them: nothing calls them), one with an
    // empty canary, so the apps page has something to show besides hello-app.
    Files.writeString(mesh.appsFile, mesh.appsYaml() + moreApps(3));
    await().atMost(Duration.ofSeconds(10)).until(() -> apps().size() == 4);
    client = new XdsTestClient(mesh.server.xdsPort(), "console-test-client", "hello-app");
    assertThat(client.count(100)).containsEntry("main", 100);
  }

  @AfterAll
  void stop() {
    if (client != null) {
      client.close();
    }
    if (mesh != null) {
      mesh.close();
    }
    if (browser != null) {
      browser.close();
    }
  }

  /** {@code count} apps "shop/app-NN" on made-up loopback ports; every third has no canary. */
  static String moreApps(int count) {
    StringBuilder yaml = new StringBuilder();
    for (int i = 1; i <= count; i++) {
      String canary = i % 3 == 1 ? "" : "\"127.0.0.1:" + (31000 + i * 10 + 2) + "\"";
      yaml.append("""
            - name: app-%02d
              namespace: shop
              port: 8080
              endpoints:
                main: ["127.0.0.1:%d", "127.0.0.1:%d"]
                baseline: ["127.0.0.1:%d"]
                canary: [%s]
          """.formatted(i, 31000 + i * 10, 31000 + i * 10 + 1, 31000 + i * 10 + 3, canary));
    }
    return yaml.toString();
  }

  private List<?> apps() throws Exception {
    return (List<?>) json(mesh.get("/api/v1/apps").body()).get("apps");
  }

  private Map<?, ?> app() throws Exception {
    return json(mesh.get("/api/v1/apps/default/hello-app").body());
  }

  private static Map<?, ?> json(String body) throws Exception {
    return FlowStore.JSON.readValue(body, Map.class);
  }

  @Test
  @Order(1)
  void appsPageShowsSubsetsSplitsAndTheEmptySubsetWarning() throws Exception {
    assertThat(mesh.put("/api/v1/apps/shop/app-01/split",
        "{\"mode\":\"deploy\",\"canaryWeight\":5}", Optional.empty()).statusCode()).isEqualTo(200);
    browser.open(mesh.admin() + "/");
    String card = browser.textContains("[data-app='default/hello-app']", "canary: 1 ready");
    assertThat(card).contains("main: 2 ready", "baseline: 1 ready", "mesh off",
        "gateway follows mesh");
    assertThat(browser.visible("[data-app='default/hello-app'] .bar").getAttribute("aria-label"))
        .isEqualTo("mesh: main 100 %, baseline 0 %, canary 0 %");
    String empty = browser.textContains("[data-app='shop/app-01']", "goes to main");
    assertThat(empty).contains("canary: 0 ready", "mesh deploy 5");
    assertThat(browser.visible("[data-app='shop/app-01'] .bar").getAttribute("aria-label"))
        .isEqualTo("mesh: main 95 %, baseline 5 %, canary 0 %");
    browser.textContains("#apps-count", "4 of 4 apps");
    assertThat(browser.script("return performance.getEntriesByType('resource')"
        + ".map(e => e.name).filter(n => !n.startsWith(location.origin + '/'))"))
        .as("everything the page loaded came from the admin server").isEqualTo(List.of());
    browser.screenshot("apps");
  }

  @Test
  @Order(2)
  void theDialSetsACanaryTestAfterAConfirmationAndTheClientsFollow() throws Exception {
    browser.open(mesh.admin() + APP_PAGE);
    browser.textContains("#app-subsets", "127.0.0.1:");
    browser.click("#mesh-mode-test");
    browser.type("#mesh-weight", "12.49");
    // The range and the number are one dial: a key on the range moves it by 0.01.
    browser.clickable("#mesh-dial").sendKeys(Keys.ARROW_RIGHT);
    assertThat(browser.visible("#mesh-weight").getAttribute("value")).isEqualTo("12.5");
    browser.click("#review");
    String confirmation = browser.visible("#confirm-mesh").getText();
    assertThat(confirmation).isEqualTo("mesh 87.5 % 0 % 12.5 %");
    assertThat(browser.visible("#confirm-gateway").getText())
        .isEqualTo("gateway (follows mesh) 87.5 % 0 % 12.5 %");
    assertThat(((Map<?, ?>) app().get("meshSplit")).get("mode"))
        .as("nothing changes before Apply").isEqualTo("off");
    assertThat(browser.driver.switchTo().activeElement().getAttribute("id")).isEqualTo("apply");
    browser.click("#apply");
    browser.textContains("#change-result", "Applied: mesh test 12.5, gateway follows mesh");

    Map<?, ?> state = app();
    assertThat(state.get("meshSplit")).isEqualTo(Map.of("mode", "test", "canaryWeight", 12.5));
    Binomial.assertSplit(client.count(RPCS), RPCS, 0.875, 0, 0.125);
    browser.textContains("#convergence-grpc .acked", "1/1");
    browser.textContains("#change-status", "every connected proxy ACKed the new routes");
    assertThat(browser.visible("#mesh-bar .bar").getAttribute("aria-label"))
        .isEqualTo("mesh: main 87.5 %, baseline 0 %, canary 12.5 %");
    browser.screenshot("app");
  }

  @Test
  @Order(3)
  void anInvalidWeightShowsTheApisErrorAndChangesNothing() throws Exception {
    browser.open(mesh.admin() + APP_PAGE);
    browser.textContains("#split-modes", "mesh: test 12.5");
    browser.click("#mesh-mode-test");
    browser.type("#mesh-weight", "12.345");
    browser.click("#review");
    browser.click("#apply");
    String error = browser.textContains("#change-error", "HTTP 400");
    assertThat(error).isEqualTo("Refused: HTTP 400: canaryWeight 12.345 is finer than 0.01 %");

    browser.click("#mesh-mode-deploy");
    browser.type("#mesh-weight", "60");
    browser.click("#review");
    browser.click("#apply");
    browser.textContains("#change-error", "deploy");
    assertThat(browser.visible("#change-error").getText()).startsWith("Refused: HTTP 400: ")
        .contains("50");
    assertThat(app().get("meshSplit")).isEqualTo(Map.of("mode", "test", "canaryWeight", 12.5));
    Binomial.assertSplit(client.count(RPCS), RPCS, 0.875, 0, 0.125);
  }

  @Test
  @Order(4)
  void theGatewayGetsASplitOfItsOwn() throws Exception {
    browser.open(mesh.admin() + APP_PAGE);
    browser.textContains("#split-modes", "mesh: test 12.5");
    browser.click("#gateway-follows");
    browser.click("#gateway-mode-deploy");
    browser.type("#gateway-weight", "5");
    browser.click("#review");
    assertThat(browser.visible("#confirm-gateway").getText()).isEqualTo("gateway 90 % 5 % 5 %");
    browser.click("#apply");
    browser.textContains("#change-result", "gateway deploy 5");
    Map<?, ?> state = app();
    assertThat(state.get("gatewayFollowsMesh")).isEqualTo(false);
    assertThat(state.get("gatewaySplit")).isEqualTo(Map.of("mode", "deploy", "canaryWeight", 5.0));
    assertThat(state.get("meshSplit")).isEqualTo(Map.of("mode", "test", "canaryWeight", 12.5));
    Binomial.assertSplit(client.count(RPCS), RPCS, 0.875, 0, 0.125);
  }

  @Test
  @Order(5)
  void aNackShowsWithItsMessageOnTheAppConvergenceAndProxiesPages() throws Exception {
    try (RawAdsStream stream = new RawAdsStream(mesh.server.xdsPort(), "nacker", "grpc")) {
      stream.request(Resources.V3.ROUTE_TYPE_URL, List.of("grpc/default/hello-app"));
      DiscoveryResponse routes = stream.next(5);
      assertThat(routes).isNotNull();
      // Markup in a NACK is text on the page, not HTML.
      stream.nack(routes, List.of("grpc/default/hello-app"), "",
          "<b>test</b> rejects every route");
      browser.open(mesh.admin() + APP_PAGE);
      String nack = browser.textContains("#nacks [data-node='nacker']", "rejects every route");
      assertThat(nack).startsWith("nacker (grpc) rejected routes " + routes.getVersionInfo())
          .endsWith(": <b>test</b> rejects every route");
      browser.textContains("#convergence-grpc .acked", "1/2");

      browser.open(mesh.admin() + "/#/convergence");
      String row = browser.textContains("#convergence-all tr[data-kind='grpc']", "1/2");
      assertThat(row).startsWith("grpc 1/2").contains("waiting for ACKs", "nacker",
          "console-test-client");
      browser.textContains("#all-nacks", "<b>test</b> rejects every route");

      browser.open(mesh.admin() + "/#/proxies");
      assertThat(browser.textContains("#proxies tr[data-node='nacker']", "rejects"))
          .contains("routes " + routes.getVersionInfo(), "<b>test</b> rejects every route");
      assertThat(browser.visible("#proxies tr[data-node='console-test-client']").getText())
          .contains("grpc", "—");
    }
  }

  @Test
  @Order(6)
  void fiftyAppsFitAPhoneScreenAndTheFilterFindsOne() throws Exception {
    Files.writeString(mesh.appsFile, mesh.appsYaml() + moreApps(49));
    await().atMost(Duration.ofSeconds(10)).until(() -> apps().size() == 50);
    browser.size(390, 844);
    try {
      browser.open(mesh.admin() + "/");
      browser.textContains("#apps-count", "50 of 50 apps");
      Object overflow = browser.script(
          "return document.documentElement.scrollWidth - document.documentElement.clientWidth");
      assertThat(((Number) overflow).intValue()).as("horizontal overflow in px").isLessThanOrEqualTo(0);
      browser.type("#apps-filter", "app-07");
      browser.textContains("#apps-count", "1 of 50 apps");
      assertThat(browser.texts(".app-card h2")).containsExactly("shop/app-07");
      // Keyboard: Tab from the filter reaches the app's link, Enter opens its page.
      browser.driver.switchTo().activeElement().sendKeys(Keys.TAB);
      assertThat(browser.driver.switchTo().activeElement().getText()).isEqualTo("shop/app-07");
      browser.driver.switchTo().activeElement().sendKeys(Keys.ENTER);
      browser.textContains("h1", "shop/app-07");
      browser.screenshot("app-phone");
    } finally {
      browser.size(1280, 900);
    }
  }

  @Test
  @Order(7)
  void withATokenTheConsoleAsksOnceIsReadOnlyWithoutItAndShowsARefusal(@TempDir Path other)
      throws Exception {
    String token = "console-test-token";
    try (TestMesh guarded = new TestMesh(other, new int[] {1, 0, 1}, Optional.of(token))) {
      browser.open(guarded.admin() + APP_PAGE);
      browser.visible("#token-panel");
      browser.click("#token-skip");
      browser.textContains("#auth-state", "read-only");
      browser.click("#mesh-mode-test");
      browser.type("#mesh-weight", "20");
      browser.click("#review");
      assertThat(browser.visible("#apply").isEnabled()).as("Apply without a token").isFalse();
      assertThat(browser.visible("#confirm .read-only-note").getText()).contains("Read-only");

      // Asked once per tab: a reload does not ask again.
      browser.open(guarded.admin() + APP_PAGE);
      browser.textContains("#auth-state", "read-only");
      assertThat(browser.driver.findElement(org.openqa.selenium.By.id("token-panel")).isDisplayed())
          .isFalse();

      browser.click("#token-ask");
      browser.type("#token-input", "not-the-token");
      browser.click("#token-save");
      browser.textContains("#auth-state", "admin token set for this tab");
      browser.click("#mesh-mode-test");
      browser.type("#mesh-weight", "20");
      browser.click("#review");
      browser.click("#apply");
      assertThat(browser.textContains("#change-error", "HTTP 401")).isEqualTo("Refused: HTTP 401: "
          + "this call changes traffic and needs 'Authorization: Bearer <token>' with the server's "
          + "admin token (the token was refused; enter it again)");
      browser.textContains("#auth-state", "read-only");
      assertThat(((Map<?, ?>) json(guarded.get("/api/v1/apps/default/hello-app").body())
          .get("meshSplit")).get("mode")).isEqualTo("off");

      browser.click("#token-ask");
      browser.type("#token-input", token);
      browser.click("#token-save");
      assertThat(browser.script("return sessionStorage.getItem('steelyard.adminToken')"))
          .isEqualTo(token);
      assertThat(browser.script("return localStorage.length")).isEqualTo(0L);
      browser.click("#review");
      browser.click("#apply");
      browser.textContains("#change-result", "Applied: mesh test 20");
      assertThat(((Map<?, ?>) json(guarded.get("/api/v1/apps/default/hello-app").body())
          .get("meshSplit")).get("canaryWeight")).isEqualTo(20.0);
    }
  }
}
