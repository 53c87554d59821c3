package dev.steelyard.xds;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFactory;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * At most {@code max} open connections on the xDS port: one accepted beyond that is closed at
 * once, before any TLS or HTTP/2 work, so that a flood of idle connections cannot use up the
 * process's file descriptors (and with them the admin port and the apps-file poller). gRPC
 * has no such cap, so the server channel that accepts connections counts them.
 */
public final class ConnectionCap implements AutoCloseable {

  private final int max;
  private final AtomicInteger open = new AtomicInteger();
  private final Counter refused;
  private final EventLoopGroup boss = new NioEventLoopGroup(1,
      new DefaultThreadFactory("xds-accept", true));
  private final EventLoopGroup workers = new NioEventLoopGroup(0,
      new DefaultThreadFactory("xds-io", true));

  public ConnectionCap(int max, MeterRegistry meters) {
    this.max = max;
    this.refused = Counter.builder("steelyard_xds_connections_refused_total")
        .description("xDS connections closed on accept: the connection cap was reached")
        .register(meters);
    Gauge.builder("steelyard_xds_connections", open, AtomicInteger::get).register(meters);
  }

  /** Accepts connections while fewer than the cap are open. */
  public ChannelFactory<NioServerSocketChannel> channelFactory() {
    return CappedServerChannel::new;
  }

  public EventLoopGroup boss() {
    return boss;
  }

  public EventLoopGroup workers() {
    return workers;
  }

  @Override
  public void close() {
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  private final class CappedServerChannel extends NioServerSocketChannel {
    @Override
    protected int doReadMessages(List<Object> accepted) throws Exception {
      int before = accepted.size();
      int read = super.doReadMessages(accepted);
      for (int i = accepted.size() - 1; i >= before; i--) {
        Channel child = (Channel) accepted.get(i);
        if (open.incrementAndGet() > max) {
          open.decrementAndGet();
          refused.increment();
          accepted.remove(i);
          read--;
          child.unsafe().closeForcibly();
          continue;
        }
        child.closeFuture().addListener(closed -> open.decrementAndGet());
      }
      return read;
    }
  }
}
