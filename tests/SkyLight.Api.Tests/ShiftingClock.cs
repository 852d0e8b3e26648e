namespace SkyLight.Api.Tests;

/// <summary>
/// The service's clock in tests that talk to Unipile over real HTTP: it runs with real time, so Kestrel, the Unipile
/// client's timeouts and retry delays and every background loop's timers behave as in production (a
/// <c>FakeTimeProvider</c> would freeze them), and a test moves it forward at once instead of sleeping: an attempt's
/// lifetime, the resend cooldown, the status poll interval or the reconciler's grace passes the moment it is advanced.
/// </summary>
public sealed class ShiftingClock : TimeProvider
{
    private long _offsetTicks;

    private TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;

    public override long GetTimestamp() => System.GetTimestamp() + (long)(Offset.TotalSeconds * System.TimestampFrequency);

    public override long TimestampFrequency => System.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => System.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        System.CreateTimer(callback, state, dueTime, period);

    /// <summary>Moves the clock forward; timers already set keep their real durations.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        Interlocked.Add(ref _offsetTicks, by.Ticks);
    }
}
