namespace Unipile.Emulator;

/// <summary>One Unipile account as the emulator keeps it. Guarded by <see cref="EmulatorState.Sync"/>.</summary>
internal sealed class EmulatedAccount
{
    public required string Id { get; init; }
    public required string Provider { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required string SourceId { get; init; }

    /// <summary>The source status GET reports: OK, CONNECTING, CREDENTIALS, ERROR, STOPPED.</summary>
    public string Status { get; set; } = "CONNECTING";
    public string Name { get; set; } = "";

    /// <summary><c>connection_params.im</c>: phone_number (WhatsApp), user_id + username (Telegram), id + username (Instagram).</summary>
    public Dictionary<string, string> Im { get; } = [];

    public AuthIntent? Intent { get; set; }

    /// <summary>Changes whenever the status is set, so a delayed Telegram confirmation can tell it is stale.</summary>
    public int StatusVersion { get; set; }
}

/// <summary>An open login attempt: a QR waiting for a scan, or Instagram checkpoints waiting for codes.</summary>
internal sealed class AuthIntent
{
    public required bool IsReconnect { get; init; }
    public required DateTimeOffset ExpiresAt { get; set; }
    public string? QrCode { get; init; }
    public Queue<string> Checkpoints { get; init; } = new();
    public string? Code { get; init; }

    /// <summary>Unipile answers a call on an expired intent with 408 once, then 400: the intent is gone.</summary>
    public bool TimeoutReported { get; set; }

    public bool IsOpen(DateTimeOffset now) => now < ExpiresAt;
    public bool AwaitsScan => QrCode is not null;
}

/// <summary>A scripted Instagram login (POST /_emulator/instagram/users).</summary>
internal sealed record InstagramUser(string Username, string Password, IReadOnlyList<string> Checkpoints, string Code);

internal sealed record RegisteredWebhook(
    string Id, string RequestUrl, string Source, string Name, string Format, bool Enabled,
    IReadOnlyList<string> AccountIds, IReadOnlyList<KeyValuePair<string, string>> Headers);

/// <summary>
/// A scripted failure: matching calls wait <c>DelayMs</c>, then answer <c>Status</c> or pass with another content type.
/// <c>AnswerDelayMs</c> does the work first and holds the answer back, as a server that finishes what a client
/// that timed out asked for: the account exists although the caller never heard of it.
/// </summary>
internal sealed class Fault
{
    public string? Method { get; init; }
    public string? Path { get; init; }
    public int? Status { get; init; }
    public int Count { get; set; } = 1;
    public int DelayMs { get; init; }
    public int AnswerDelayMs { get; init; }
    public string? ContentType { get; init; }

    /// <summary>A raw body instead of Unipile's envelope, e.g. a proxy's HTML error page.</summary>
    public string? Body { get; init; }

    public bool Matches(HttpRequest request) =>
        (Method is null || string.Equals(Method, request.Method, StringComparison.OrdinalIgnoreCase)) &&
        (Path is null || (Path.EndsWith('*')
            ? request.Path.Value?.StartsWith(Path[..^1], StringComparison.Ordinal) == true
            : string.Equals(Path, request.Path.Value, StringComparison.Ordinal)));
}
