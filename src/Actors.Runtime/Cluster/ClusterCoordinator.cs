using System.Globalization;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using static Actors.Runtime.Cluster.ClusterProtocol;

namespace Actors.Runtime.Cluster;

/// <summary>
/// The experiment coordinator as a cluster singleton (on <c>coordinator</c> nodes). Places the aggregator on an
/// <c>aggregator</c> node and worker ids round-robin on <c>worker</c> nodes, through each node's <see cref="NodeAgent"/>;
/// watches membership: a worker node that becomes unreachable or leaves is crashed workers (the aggregator's live set
/// shrinks, the run continues with the rest and records the event); a lost aggregator node ends the run.
/// One run at a time: a run submitted while another runs waits in a queue (its client is told its place) and starts when
/// the one before it ends; <see cref="StatusQuery"/> lists the members and the runs.
/// </summary>
public sealed class ClusterCoordinator : ReceiveActor
{
    public const string SingletonName = "coordinator", ProxyName = "coordinator-proxy", Role = "coordinator";
    private static readonly TimeSpan SetupTimeout = TimeSpan.FromSeconds(120);

    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<Address, Member> _up = [];
    private Run? _run;
    private int _runs;
    private readonly List<Pending> _queue = [];
    private readonly List<RunInfo> _done = [];
    private readonly Dictionary<Address, (long Sent, DateTime At, double Rate)> _load = [];
    private const int DoneKept = 50;

    private sealed record Pending(string Id, string Hocon, Experiments.ExperimentSpec Spec, IActorRef Client);

    private sealed class Run(string id, IActorRef client, string hocon, int workers, int honest, Address aggregatorNode, Dictionary<Address, int[]> placement)
    {
        public string Name { get; init; } = "";
        public long Steps { get; init; }
        public long Step { get; set; }
        public int Honest { get; } = honest;
        public string Id { get; } = id;
        public IActorRef Client { get; } = client;
        public string Hocon { get; } = hocon;
        public Address AggregatorNode { get; set; } = aggregatorNode;
        public HashSet<Address> Retired { get; } = []; // aggregator nodes given up on (they may still hold the run's actors)
        public (long Version, byte[] Model)? Checkpoint { get; set; }
        public CheckpointAssembly Assembly { get; set; } = new();
        public List<long> Restarts { get; } = [];
        /// <summary>During a failover: worker nodes that have not yet pointed their workers at the new aggregator.</summary>
        public HashSet<Address>? PendingRewire { get; set; }
        public Dictionary<Address, int[]> Placement { get; } = placement;
        public string?[] Paths { get; } = new string?[workers];
        /// <summary>The updates each worker sent, as its node last reported (the run's accounting).</summary>
        public long[] Sent { get; } = new long[workers];
        /// <summary>Once the last step is applied: the aggregator's figures, and the worker nodes whose final counts are awaited.</summary>
        public (ClusterStats Stats, HashSet<Address> Awaiting)? Finishing { get; set; }
        public HashSet<int> Crashed { get; } = [];
        public List<CrashEvent> Events { get; } = [];
        public IActorRef Host { get; set; } = ActorRefs.Nobody;
        public string DataSource { get; set; } = "";
        public long Parameters { get; set; }
        public bool Started { get; set; }
        public string[] PeerPaths { get; init; } = [];
        /// <summary>Why this run cannot resume on another aggregator node (gossip; Mime), or null when it can.</summary>
        public string? NoFailover { get; init; }
        public ICancelable? Timeout { get; set; }
    }

    private sealed record SetupExpired(string RunId);

    public ClusterCoordinator()
    {
        Receive<ClusterEvent.MemberUp>(m => _up[m.Member.Address] = m.Member);
        Receive<ClusterEvent.MemberRemoved>(m => NodeLost(m.Member.Address, "removed"));
        Receive<ClusterEvent.MemberExited>(m => NodeLost(m.Member.Address, "left"));
        Receive<ClusterEvent.UnreachableMember>(m => NodeLost(m.Member.Address, "unreachable"));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<SubmitRun>(OnSubmit);
        Receive<StatusQuery>(_ => Sender.Tell(Status()));
        Receive<RunStep>(s => _run?.Id == s.RunId, s => _run!.Step = Math.Max(_run.Step, s.Step));
        Receive<NodeLoad>(l => _run?.Id == l.RunId, l =>
        {
            var node = NodeOf(Sender);
            if (l is { WorkerIds: { } ids, Sent: { } sent } && ids.Length == sent.Length)
                for (int i = 0; i < ids.Length; i++)
                    if (ids[i] >= 0 && ids[i] < _run!.Sent.Length) _run.Sent[ids[i]] = Math.Max(_run.Sent[ids[i]], sent[i]);
            if (l.Final && _run!.Finishing is { } finishing && finishing.Awaiting.Remove(node) && finishing.Awaiting.Count == 0)
            {
                Complete(_run);
                return;
            }
            var now = DateTime.UtcNow;
            double rate = _load.TryGetValue(node, out var last) && now > last.At ? Math.Max(0, l.UpdatesSent - last.Sent) / (now - last.At).TotalSeconds : 0;
            _load[node] = (l.UpdatesSent, now, rate);
        });
        Receive<AggregatorReady>(r => _run?.Id == r.RunId, OnAggregatorReady);
        Receive<WorkersReady>(r => _run?.Id == r.RunId, OnWorkersReady);
        Receive<WorkersCrashed>(c => _run?.Id == c.RunId, c =>
        {
            var run = _run!;
            run.Events.Add(c.Event);
            _log.Warning("run {0}: workers [{1}] on {2} crashed at step {3}", c.RunId, string.Join(",", c.Event.Workers), c.Event.Node, c.Event.Step);
            run.Client.Tell(new RunNotice(run.Id, $"node {c.Event.Node} lost at step {c.Event.Step}: workers [{string.Join(",", c.Event.Workers)}] crashed; " +
                                                  $"continuing with {run.Paths.Length - run.Crashed.Count} of {run.Paths.Length} workers"));
        });
        Receive<CheckpointChunk>(c => _run?.Id == c.RunId && NodeOf(Sender).Equals(_run.AggregatorNode), c =>
        {
            if (_run!.Assembly.Add(c) is { } model) _run.Checkpoint = (c.Version, model);
        });
        Receive<AggregatorFinished>(f => _run?.Id == f.RunId && _run.Finishing is null, f =>
        {
            // Before the result goes out, the worker nodes still alive stop their workers and report how many updates each sent
            // (bounded: a node that does not answer in time keeps its last once-a-second report).
            var run = _run!;
            var live = run.Placement.Where(p => p.Value.Any(w => !run.Crashed.Contains(w))).Select(p => p.Key).ToHashSet();
            run.Finishing = (f.Stats, live);
            run.Timeout?.Cancel();
            foreach (var node in live) Agent(Context, node).Tell(new FinalTally(run.Id));
            if (live.Count == 0) Complete(run);
            else run.Timeout = Context.System.Scheduler.ScheduleTellOnceCancelable(TallyTimeout, Self, new TallyExpired(run.Id), Self);
        });
        Receive<TallyExpired>(e => _run is { Finishing: not null } r && r.Id == e.RunId, _ => Complete(_run!));
        Receive<GossipHostFinished>(f => _run?.Id == f.RunId, f =>
        {
            var run = _run!;
            run.Client.Tell(new GossipRunCompleted(run.Id, f.Steps, f.UpdatesApplied, f.VirtualTimeS, f.Leaves, f.Rejoins, f.Lost, [.. run.Events], run.DataSource, run.Parameters));
            run.Step = run.Steps;
            End(run, "completed", "");
        });
        Receive<NodeFailed>(f => _run?.Id == f.RunId, f => Fail(_run!, f.Reason));
        Receive<SetupExpired>(e => _run is { Started: false } r && r.Id == e.RunId, _ => Fail(_run!, $"the nodes did not set the run up within {SetupTimeout.TotalSeconds:0} s"));
        Receive<Terminated>(t => _run is { } r && r.Client.Equals(t.ActorRef), _ => End(_run!, "failed", "the client went away")); // nobody wants the result
        Receive<Terminated>(t => _queue.RemoveAll(p => p.Client.Equals(t.ActorRef)));
        Receive<object>(_ => { }); // replies of a run that already ended
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new ClusterCoordinator());

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.UnreachableMember));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    /// <summary>The cluster address of the node an actor lives on (local refs carry no host).</summary>
    private Address NodeOf(IActorRef actor) => actor.Path.Address.HasGlobalScope ? actor.Path.Address : _cluster.SelfAddress;

    private static ActorSelection Agent(IActorContext context, Address node) => context.ActorSelection(new RootActorPath(node) / "user" / NodeAgent.Name);

    private void OnSubmit(SubmitRun submit)
    {
        Experiments.ExperimentSpec spec;
        try
        {
            spec = NodeAgent.ParseSpec(submit.ExperimentHocon);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Sender.Tell(new RunRejected($"bad experiment: {e.Message}"));
            return;
        }
        if (ClusterKinds.Refusal(spec) is { } refusal)
        {
            Sender.Tell(new RunRejected(refusal));
            return;
        }
        var pending = new Pending($"{++_runs}-{DateTime.UtcNow:HHmmss}", submit.ExperimentHocon, spec, Sender);
        if (_run is not null)
        {
            _queue.Add(pending);
            Context.Watch(Sender);
            Sender.Tell(new RunQueued(pending.Id, _queue.Count, _run.Id));
            _log.Info("run {0} queued behind run {1} (position {2})", pending.Id, _run.Id, _queue.Count);
            return;
        }
        Launch(pending);
    }

    /// <summary>The next queued run whose client is still there, once the cluster is free.</summary>
    private void LaunchNext()
    {
        while (_run is null && _queue.Count > 0)
        {
            var next = _queue[0];
            _queue.RemoveAt(0);
            for (int i = 0; i < _queue.Count; i++) _queue[i].Client.Tell(new RunQueued(_queue[i].Id, i + 1, next.Id));
            Launch(next);
        }
    }

    private ClusterStatus Status()
    {
        var state = _cluster.State;
        var members = state.Members.OrderBy(m => m, Member.AgeOrdering)
            .Select(m => new MemberInfo(m.Address.ToString(), [.. m.Roles.Order(StringComparer.Ordinal)], m.Status.ToString(), !state.Unreachable.Contains(m),
                _load.TryGetValue(m.Address, out var load) ? Math.Round(load.Rate, 1) : 0))
            .ToArray();
        var runs = new List<RunInfo>(_done);
        if (_run is { } r) runs.Add(new RunInfo(r.Id, r.Name, "running", r.Step, r.Steps, ""));
        runs.AddRange(_queue.Select(p => new RunInfo(p.Id, p.Spec.Name, "queued", 0, p.Spec.Steps, "")));
        return new ClusterStatus(members, [.. runs]);
    }

    private void Launch(Pending pending)
    {
        var (id, spec) = (pending.Id, pending.Spec);
        var client = pending.Client;
        var members = _up.Values.OrderBy(m => m, Member.AgeOrdering).ToList();
        var workerNodes = members.Where(m => m.HasRole("worker")).Select(m => m.Address).ToList();
        // Nodes with the byzantine role host the attackers when any is up; otherwise attackers are dealt like honest workers.
        var byzantineNodes = members.Where(m => m.HasRole("byzantine")).Select(m => m.Address).ToList();
        // Prefer an aggregator node that hosts no workers; the oldest such node.
        var aggregator = members.Where(m => m.HasRole("aggregator")).OrderBy(m => m.HasRole("worker") ? 1 : 0).Select(m => m.Address).FirstOrDefault();
        if (workerNodes.Count == 0 || aggregator is null)
        {
            client.Tell(new RunRejected($"the cluster has {workerNodes.Count} worker node(s) and {(aggregator is null ? "no" : "an")} aggregator node; need at least one of each " +
                                        "(start nodes with: actors node --seed ADDRESS --roles worker | aggregator)"));
            return;
        }
        bool gossip = spec.Kind == Gossip.GossipKind.KindName;
        // A gossip run's workers are its peers (topology.nodes), all honest; the gossip host takes the aggregator's place.
        int honest = gossip ? Gossip.GossipSection.Of(spec).Topology.Nodes : spec.Workers.Honest, byzantine = gossip ? 0 : spec.Workers.Byzantine;
        var placement = Place(honest, byzantine, workerNodes, byzantineNodes);
        var paths = placement.SelectMany(p => p.Value.Select(w => (Id: w, Path: ClusterProtocol.WorkerPath(p.Key, id, w)))).OrderBy(w => w.Id).ToList();
        // Peers talk to every other peer by id; an omniscient attack's honest workers tap their updates to the attackers, wherever those live.
        string[] peers = gossip ? [.. paths.Select(w => w.Path)]
            : spec.Attack.Omniscient ? [.. paths.Where(w => w.Id >= honest).Select(w => w.Path)]
            : [];
        var run = new Run(id, client, pending.Hocon, honest + byzantine, honest, aggregator, placement) { PeerPaths = peers, Name = spec.Name, Steps = spec.Steps, NoFailover = ClusterKinds.NoFailover(spec) };
        _run = run;
        Context.Watch(client);
        run.Timeout = Context.System.Scheduler.ScheduleTellOnceCancelable(SetupTimeout, Self, new SetupExpired(id), Self);
        Agent(Context, aggregator).Tell(new HostAggregator(id, pending.Hocon, Self, client, 0, null));
        client.Tell(new RunAccepted(id, aggregator.ToString(), [.. placement.Select(p => $"{p.Key} <- workers {string.Join(",", p.Value)}")]));
        _log.Info("run {0}: aggregator on {1}, workers on {2} node(s)", id, aggregator, placement.Count);
    }

    private void OnAggregatorReady(AggregatorReady ready)
    {
        var run = _run!;
        if (!NodeOf(Sender).Equals(run.AggregatorNode)) return; // from a retired aggregator node
        run.Host = ready.Host;
        if (run.Started)
        {
            // Failover: point the surviving workers at the new aggregator, then start it (OnWorkersReady).
            run.PendingRewire = [.. run.Placement.Where(p => p.Value.Any(i => !run.Crashed.Contains(i)) && _up.ContainsKey(p.Key)).Select(p => p.Key)];
            foreach (var node in run.PendingRewire) Agent(Context, node).Tell(new Rewire(run.Id, ready.Aggregator));
            if (run.PendingRewire.Count == 0) Fail(run, "no worker node left after the aggregator failover");
            return;
        }
        run.DataSource = ready.DataSource;
        run.Parameters = ready.Parameters;
        foreach (var (node, ids) in run.Placement)
            Agent(Context, node).Tell(new HostWorkers(run.Id, run.Hocon, ids, ready.Aggregator, Self, run.PeerPaths));
    }

    private void OnWorkersReady(WorkersReady ready)
    {
        var run = _run!;
        if (run.PendingRewire is { } pending)
        {
            pending.Remove(NodeOf(Sender));
            TryRestart(run);
            return;
        }
        for (int k = 0; k < ready.WorkerIds.Length; k++) run.Paths[ready.WorkerIds[k]] = ready.Paths[k];
        if (run.Started || run.Paths.Any(p => p is null)) return;
        run.Started = true;
        run.Timeout?.Cancel();
        run.Host.Tell(new StartRun(run.Id, [.. run.Paths.Select(p => p!)], []));
        // A node lost while the run was being set up.
        foreach (var node in run.Placement.Keys.Where(a => !_up.ContainsKey(a)).ToList()) LoseWorkerNode(run, node, "lost during setup");
    }

    /// <summary>
    /// Worker ids per node: honest ids round-robin over the worker nodes; Byzantine ids round-robin over the byzantine nodes
    /// when there are any, else continuing the same deal over the worker nodes.
    /// </summary>
    internal static Dictionary<Address, int[]> Place(int honest, int byzantine, IReadOnlyList<Address> workerNodes, IReadOnlyList<Address> byzantineNodes)
    {
        var ids = new Dictionary<Address, List<int>>();
        void Deal(int id, Address node)
        {
            if (!ids.TryGetValue(node, out var list)) ids[node] = list = [];
            list.Add(id);
        }
        for (int i = 0; i < honest; i++) Deal(i, workerNodes[i % workerNodes.Count]);
        var attackers = byzantineNodes.Count > 0 ? byzantineNodes : workerNodes;
        for (int b = 0; b < byzantine; b++) Deal(honest + b, attackers[(byzantineNodes.Count > 0 ? b : honest + b) % attackers.Count]);
        return ids.ToDictionary(p => p.Key, p => p.Value.ToArray());
    }

    private void NodeLost(Address node, string how)
    {
        _up.Remove(node);
        if (_run is not { } run) return;
        if (node.Equals(run.AggregatorNode))
        {
            FailOver(run, node, how);
            return;
        }
        if (run.Started) LoseWorkerNode(run, node, how);
        if (run.PendingRewire is { } pending && pending.Remove(node)) TryRestart(run);
    }

    /// <summary>The aggregator's node is gone: restart the aggregator on another aggregator node from the last checkpoint.</summary>
    private void FailOver(Run run, Address lost, string how)
    {
        run.Retired.Add(lost);
        var spare = _up.Values.Where(m => m.HasRole("aggregator") && !run.Retired.Contains(m.Address))
            .OrderBy(m => m.HasRole("worker") ? 1 : 0).ThenBy(m => m, Member.AgeOrdering).Select(m => m.Address).FirstOrDefault();
        if (run.NoFailover is { } reason)
        {
            Fail(run, $"the aggregator node {lost} is {how}: {reason}");
            return;
        }
        if (!run.Started || spare is null)
        {
            Fail(run, $"the aggregator node {lost} is {how}{(spare is null ? " and no other aggregator node is up" : " before the run started")}");
            return;
        }
        var (version, model) = run.Checkpoint ?? (0, []);
        _log.Warning("run {0}: aggregator node {1} is {2}; restarting the aggregator on {3} from the checkpoint at step {4}", run.Id, lost, how, spare, version);
        run.Client.Tell(new RunNotice(run.Id, $"aggregator node {lost} is {how}: the aggregator resumes on {spare} from step {version}"));
        Agent(Context, lost).Tell(new EndRun(run.Id));
        run.AggregatorNode = spare;
        run.Host = ActorRefs.Nobody;
        run.Restarts.Add(version);
        run.Assembly = new CheckpointAssembly(); // chunks of the lost aggregator still in flight are ignored (other node)
        var agent = Agent(Context, spare);
        if (version > 0)
            foreach (var chunk in CheckpointChunk.Split(run.Id, version, model)) agent.Tell(chunk);
        agent.Tell(new HostAggregator(run.Id, run.Hocon, Self, run.Client, version, null));
    }

    private void TryRestart(Run run)
    {
        if (run.PendingRewire is not { Count: 0 }) return;
        run.PendingRewire = null;
        run.Host.Tell(new StartRun(run.Id, [.. run.Paths.Select(p => p!)], [.. run.Crashed]));
    }

    private void LoseWorkerNode(Run run, Address node, string how)
    {
        if (!run.Placement.TryGetValue(node, out var ids)) return;
        var lost = ids.Where(run.Crashed.Add).ToArray();
        if (lost.Length == 0) return;
        _log.Warning("run {0}: worker node {1} is {2}: workers [{3}] crashed", run.Id, node, how, string.Join(",", lost));
        if (run.Crashed.Count(w => w < run.Honest) >= run.Honest)
        {
            Fail(run, $"every honest worker crashed (last: node {node} is {how})");
            return;
        }
        run.Host.Tell(new LoseWorkers(run.Id, lost, node.ToString()));
    }

    private static readonly TimeSpan TallyTimeout = TimeSpan.FromSeconds(5);

    private sealed record TallyExpired(string RunId);

    private void Complete(Run run)
    {
        var (stats, _) = run.Finishing!.Value;
        run.Client.Tell(new RunCompleted(run.Id, stats, [.. run.Events], [.. run.Restarts], run.DataSource, run.Parameters, [.. run.Sent]));
        run.Step = run.Steps;
        End(run, "completed", "");
    }

    private void Fail(Run run, string reason)
    {
        _log.Warning("run {0} failed: {1}", run.Id, reason);
        run.Client.Tell(new RunRejected(reason));
        End(run, "failed", reason);
    }

    private void End(Run run, string state, string outcome)
    {
        _done.Add(new RunInfo(run.Id, run.Name, state, run.Step, run.Steps, outcome));
        _load.Clear();
        if (_done.Count > DoneKept) _done.RemoveAt(0);
        run.Timeout?.Cancel();
        Context.Unwatch(run.Client);
        foreach (var node in run.Placement.Keys.Append(run.AggregatorNode).Concat(run.Retired).Distinct())
            Agent(Context, node).Tell(new EndRun(run.Id));
        _run = null;
        LaunchNext();
    }
}
