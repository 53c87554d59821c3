package dev.steelyard.xds;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFactory;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import dev.steelyard.net.ConnectionLimit;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * At most {@code max} open connections on the xDS port: one accepted beyond that is closed at
 * once, before any TLS or HTTP/2 work, so that a flood of idle connections cannot use up the
 * process's file descriptors (and with them the admin port and the apps-file poller). gRPC
 * has no such cap, so the server channel that accepts connections counts them, with the
 * admin port's {@link ConnectionLimit} ({@code steelyard_connections{port="xds"}}).
 */
public final class ConnectionCap implements AutoCloseable {

  private final ConnectionLimit limit;
  private final EventLoopGroup boss = new NioEventLoopGroup(1,
      new DefaultThreadFactory("xds-accept", true));
  private final EventLoopGroup workers = new NioEventLoopGroup(0,
      new DefaultThreadFactory("xds-io", true));

  public ConnectionCap(int max, MeterRegistry meters) {
    this.limit = new ConnectionLimit("xds", max, meters);
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
        if (!limit.tryOpen()) {
          accepted.remove(i);
          read--;
          child.unsafe().closeForcibly();
          continue;
        }
        child.closeFuture().addListener(closed -> limit.closed());
      }
      return read;
    }
  }
}
