namespace Sessions.Grains;

/// <summary>
/// The DPoP proof jtis a grain accepted recently, in its memory only: each one until the Api's own checks would refuse
/// that proof anyway (<see cref="DpopProof.ReplayableUntil"/>). No shared cache: every request of a bound session
/// reaches its session grain (and every login its email's index grain), which answers alone. Bounded: past
/// <see cref="Capacity"/> the oldest jti is forgotten. What is forgotten (by eviction, or when the grain re-activates,
/// on this silo or another) can be replayed until it expires: the documented limit (docs/http-api.md#dpop-sender-constrained-tokens).
/// </summary>
public sealed class RecentProofs
{
    /// <summary>More proofs than a client makes within one proof lifetime (60 s + 30 s by default) for one session.</summary>
    public const int Capacity = 128;

    private readonly Dictionary<string, DateTimeOffset> _until = new(StringComparer.Ordinal);
    private readonly Queue<(string Jti, DateTimeOffset Until)> _accepted = new();

    public int Count => _until.Count;

    /// <summary>Whether no proof accepted so far could still be replayed.</summary>
    public bool IsEmptyAt(DateTimeOffset now)
    {
        while (_accepted.TryPeek(out var oldest) && oldest.Until <= now)
            Forget(_accepted.Dequeue());
        return _accepted.Count == 0;
    }

    /// <summary>Accepts the proof's jti once: false when it was accepted before and the proof could still pass the Api's checks.</summary>
    public bool TryAccept(DpopProof proof, DateTimeOffset now)
    {
        while (_accepted.TryPeek(out var oldest) && oldest.Until <= now)
            Forget(_accepted.Dequeue());
        if (_until.TryGetValue(proof.Jti, out var until) && until > now)
            return false;
        _until[proof.Jti] = proof.ReplayableUntil;
        _accepted.Enqueue((proof.Jti, proof.ReplayableUntil));
        while (_accepted.Count > Capacity)
            Forget(_accepted.Dequeue());
        return true;
    }

    // A jti accepted again after it expired is queued twice; only its newest entry removes it.
    private void Forget((string Jti, DateTimeOffset Until) entry)
    {
        if (_until.TryGetValue(entry.Jti, out var until) && until == entry.Until)
            _until.Remove(entry.Jti);
    }
}
