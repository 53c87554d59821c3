package dev.steelyard.console;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * The web console: plain HTML, JavaScript and CSS from the jar ({@value #WEBROOT} on the
 * classpath), served at {@code /} and under {@value #ASSETS}. No build step and nothing from
 * the network: the page reads and changes state through the same REST API as the CLI.
 * Only these two paths are taken, so {@code /api/...}, {@code /metrics} and the probes are
 * untouched.
 */
public final class ConsoleRoutes {

  static final String WEBROOT = "steelyard/console";
  static final String ASSETS = "/console/";
  /**
   * Same-origin everything: no CDN, no inline script or style element (widths are set through
   * the DOM), no framing.
   */
  static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; "
      + "style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
      + "form-action 'none'; frame-ancestors 'none'";

  private ConsoleRoutes() {}

  /** Adds the console's routes to the admin router; call before its catch-all 404. */
  public static void register(Router router) {
    StaticHandler files = StaticHandler.create(WEBROOT)
        .setIndexPage("index.html")
        .setDefaultContentEncoding("UTF-8")
        .setDirectoryListing(false)
        // Vert.x's caching marks files immutable for a day; these are not fingerprinted, so a
        // new jar's console must be seen on the next load: revalidate every time instead.
        .setCachingEnabled(false);
    for (String path : new String[] {"/", ASSETS + "*"}) {
      router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD)
          .handler(ConsoleRoutes::headers).handler(files);
      router.route(path).handler(ConsoleRoutes::readOnly);
    }
  }

  private static void headers(RoutingContext ctx) {
    ctx.response()
        .putHeader("Cache-Control", "no-cache")
        .putHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "no-referrer");
    ctx.next();
  }

  /** Other methods get 405; a GET for a file that is not there goes on to the API's 404. */
  private static void readOnly(RoutingContext ctx) {
    HttpMethod method = ctx.request().method();
    if (method == HttpMethod.GET || method == HttpMethod.HEAD) {
      ctx.next();
      return;
    }
    ctx.response().setStatusCode(405).putHeader("Allow", "GET, HEAD")
        .putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", "method " + ctx.request().method()
            + " is not allowed on " + ctx.request().path() + "; allowed: GET, HEAD").encode()
            + "\n");
  }
}
