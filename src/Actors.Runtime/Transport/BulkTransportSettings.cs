using Akka.Configuration;

namespace Actors.Runtime.Transport;

/// <summary>Settings of the bulk side channel, read from <c>actors.transport</c>.</summary>
public sealed record BulkTransportSettings(
    string Host,
    string PublicHostname,
    int Port,
    long MaxTransferBytes,
    long MaxBufferedBytes,
    int MaxConnections,
    int ConnectionsPerEndpoint,
    int SocketBufferBytes,
    int PooledBuffersPerSize,
    TimeSpan ConnectTimeout,
    TimeSpan TransferTimeout,
    TimeSpan StallTimeout,
    TimeSpan UnclaimedTimeout,
    TimeSpan ReceiveTimeout,
    TimeSpan ResolveTimeout)
{
    /// <summary>The port other nodes dial (<c>public-port</c>): a mapping or proxy in front of the bound one; 0 = the bound port.</summary>
    public int PublicPort { get; init; }

    /// <summary>The defaults, also the fallback for any key a config leaves out.</summary>
    public const string DefaultHocon = """
        actors.transport {
          # Address the bulk listener binds to; 0.0.0.0 listens on every interface.
          host = "127.0.0.1"
          # Host other nodes use to reach this listener; empty = host, or the Akka remote
          # hostname when host is a wildcard address.
          public-hostname = ""
          # 0 = ephemeral port (the handle carries the real one).
          port = 0
          # Port other nodes dial when a mapping or proxy sits in front of the bound one; 0 = the bound port.
          public-port = 0
          # A transfer announcing more than this is refused and the connection closed.
          max-transfer-bytes = 256MiB
          # Received bytes not yet claimed by an actor (plus transfers in flight) are capped here.
          max-buffered-bytes = 1GiB
          # Inbound connections beyond this are closed at once.
          max-connections = 256
          # Pooled persistent outbound connections per remote listener (parallel transfers).
          connections-per-endpoint = 4
          # Received payloads of 1 MiB and more land in pooled buffers (returned by BulkPayload.Dispose);
          # this many are kept per power-of-two size class.
          pooled-buffers-per-size = 8
          # SO_SNDBUF / SO_RCVBUF; 0 = operating system default (autotuned on Linux).
          socket-buffer-bytes = 0
          connect-timeout = 10s
          # Sender side: the whole transfer, including the receiver's acknowledgement.
          transfer-timeout = 60s
          # Receiver side: a transfer that makes no progress for this long is dropped.
          stall-timeout = 15s
          # Bytes that arrived but were never claimed are dropped after this.
          unclaimed-timeout = 60s
          # A claim (ReceiveAsync) whose bytes never arrive fails after this.
          receive-timeout = 60s
          # Asking a remote node for its bulk endpoint.
          resolve-timeout = 10s
        }
        """;

    /// <summary>Binds the side channel's Akka messages to <see cref="BulkTransportSerializer"/> (also in cluster-config/akka.hocon).</summary>
    /// Also starts the extension with the system, so other nodes can resolve this node's endpoint
    /// before any local code touched <see cref="BulkTransport"/> (akka.extensions is a list: keep this entry).
    public const string SerializationHocon = """
        akka.extensions = ["Actors.Runtime.Transport.BulkTransportProvider, Actors.Runtime"]
        akka.actor {
          serializers.actors-bulk = "Actors.Runtime.Transport.BulkTransportSerializer, Actors.Runtime"
          serialization-bindings {
            "Actors.Runtime.Transport.IBulkTransportMessage, Actors.Runtime" = actors-bulk
          }
          serialization-identifiers {
            "Actors.Runtime.Transport.BulkTransportSerializer, Actors.Runtime" = 7401
          }
        }
        """;

    /// <summary><c>actors.transport</c> defaults only.</summary>
    public static Config DefaultConfig { get; } = ConfigurationFactory.ParseString(DefaultHocon);

    /// <summary>Defaults plus the serializer binding: a fallback for systems not built from cluster-config/.</summary>
    public static Config AkkaConfig { get; } = ConfigurationFactory.ParseString(SerializationHocon).WithFallback(DefaultConfig);

    public static BulkTransportSettings Default { get; } = FromConfig(DefaultConfig);

    /// <summary>Reads <c>actors.transport</c> from a full config (missing keys take the defaults).</summary>
    public static BulkTransportSettings FromConfig(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        // A fresh fallback: Akka refuses a config that already sits in the chain as its own fallback.
        var c = config.WithFallback(ConfigurationFactory.ParseString(DefaultHocon)).GetConfig("actors.transport");
        var settings = new BulkTransportSettings(
            Host: c.GetString("host", "127.0.0.1"),
            PublicHostname: c.GetString("public-hostname", ""),
            Port: c.GetInt("port", 0),
            MaxTransferBytes: c.GetByteSize("max-transfer-bytes") ?? 256L << 20,
            MaxBufferedBytes: c.GetByteSize("max-buffered-bytes") ?? 1L << 30,
            MaxConnections: c.GetInt("max-connections", 256),
            ConnectionsPerEndpoint: c.GetInt("connections-per-endpoint", 4),
            SocketBufferBytes: (int)(c.GetByteSize("socket-buffer-bytes") ?? 0),
            PooledBuffersPerSize: c.GetInt("pooled-buffers-per-size", 8),
            ConnectTimeout: c.GetTimeSpan("connect-timeout", TimeSpan.FromSeconds(10)),
            TransferTimeout: c.GetTimeSpan("transfer-timeout", TimeSpan.FromSeconds(60)),
            StallTimeout: c.GetTimeSpan("stall-timeout", TimeSpan.FromSeconds(15)),
            UnclaimedTimeout: c.GetTimeSpan("unclaimed-timeout", TimeSpan.FromSeconds(60)),
            ReceiveTimeout: c.GetTimeSpan("receive-timeout", TimeSpan.FromSeconds(60)),
            ResolveTimeout: c.GetTimeSpan("resolve-timeout", TimeSpan.FromSeconds(10)))
        {
            PublicPort = c.GetInt("public-port", 0),
        };
        settings.Validate();
        return settings;
    }

    private void Validate()
    {
        static void Require(bool ok, string key, object value, string rule)
        {
            if (!ok)
            {
                throw new ConfigurationException($"actors.transport.{key} = {value}: {rule}");
            }
        }

        Require(Port is >= 0 and <= 65535, "port", Port, "must be 0..65535 (0 = ephemeral)");
        Require(PublicPort is >= 0 and <= 65535, "public-port", PublicPort, "must be 0..65535 (0 = the bound port)");
        // Transfers land in one managed array.
        Require(MaxTransferBytes > 0 && MaxTransferBytes <= Array.MaxLength, "max-transfer-bytes", MaxTransferBytes, $"must be 1..{Array.MaxLength}");
        Require(MaxBufferedBytes >= MaxTransferBytes, "max-buffered-bytes", MaxBufferedBytes, "must be >= max-transfer-bytes");
        Require(MaxConnections > 0, "max-connections", MaxConnections, "must be > 0");
        Require(ConnectionsPerEndpoint > 0, "connections-per-endpoint", ConnectionsPerEndpoint, "must be > 0");
        Require(PooledBuffersPerSize > 0, "pooled-buffers-per-size", PooledBuffersPerSize, "must be > 0");
        Require(SocketBufferBytes >= 0, "socket-buffer-bytes", SocketBufferBytes, "must be >= 0");
        foreach (var (key, value) in new[]
                 {
                     ("connect-timeout", ConnectTimeout), ("transfer-timeout", TransferTimeout),
                     ("stall-timeout", StallTimeout), ("unclaimed-timeout", UnclaimedTimeout),
                     ("receive-timeout", ReceiveTimeout), ("resolve-timeout", ResolveTimeout),
                 })
        {
            Require(value > TimeSpan.Zero, key, value, "must be > 0");
        }
    }
}
