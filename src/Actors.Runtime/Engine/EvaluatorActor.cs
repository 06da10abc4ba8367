using Actors.Learning.Training;
using Akka.Actor;
using static Actors.Runtime.Protocol.ExperimentProtocol;

namespace Actors.Runtime.Engine;

/// <summary>Evaluates model snapshots on the test set, off the training path, and reports to the coordinator.</summary>
public sealed class EvaluatorActor : ReceiveActor
{
    private readonly IModelEvaluator _evaluator;

    public EvaluatorActor(IModelEvaluator evaluator, IActorRef coordinator)
    {
        _evaluator = evaluator;
        Receive<EvaluateSnapshot>(s =>
        {
            using var parameters = s.Model.ToTensor();
            var score = _evaluator.Score(parameters);
            // The aggregator's figures (e.g. pruning) first, then the evaluator's own (e.g. a game's).
            IReadOnlyList<double> extras = s.Extras is { Count: > 0 } a ? (score.Extras.Count > 0 ? [.. a, .. score.Extras] : a) : score.Extras;
            coordinator.Tell(new EvaluationResult(s.Counters, score.Loss, score.Accuracy, s.Final, extras, score.Samples));
        });
    }

    public static Props Props(IModelEvaluator evaluator, IActorRef coordinator) =>
        Akka.Actor.Props.Create(() => new EvaluatorActor(evaluator, coordinator));
}
