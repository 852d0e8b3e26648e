using Microsoft.Extensions.Options;

namespace Unipile.Emulator;

/// <summary>Opens and completes authentication intents; the one place an account becomes connected.</summary>
internal sealed class Logins(EmulatorState state, WebhookDispatcher webhooks, TimeProvider time, IOptions<EmulatorOptions> options)
{
    public DateTimeOffset Now => time.GetUtcNow();

    public EmulatedAccount NewAccount(string provider)
    {
        var account = new EmulatedAccount { Id = Wire.NewId(), Provider = provider, CreatedAt = time.GetUtcNow(), SourceId = $"{Wire.NewId()}_MESSAGING" };
        // connection_params.im is always complete on the wire, even before anyone scanned (the SDK's schema requires it)
        string[] fields = provider switch
        {
            Wire.WhatsApp => ["phone_number"],
            Wire.Telegram => ["user_id", "username"],
            _ => ["id", "username"],
        };
        foreach (var field in fields)
        {
            account.Im[field] = "";
        }
        return account;
    }

    public AuthIntent OpenIntent(bool reconnect, string? qrCode = null, IEnumerable<string>? checkpoints = null, string? code = null) => new()
    {
        IsReconnect = reconnect,
        ExpiresAt = time.GetUtcNow() + options.Value.IntentLifetime,
        QrCode = qrCode,
        Checkpoints = new Queue<string>(checkpoints ?? []),
        Code = code,
    };

    /// <summary>
    /// The login succeeded: CREATION_SUCCESS (or RECONNECTED), then OK. Telegram confirms its OK only after
    /// <see cref="EmulatorOptions.TelegramConfirmDelay"/>, as the real one does. Call under <see cref="EmulatorState.Sync"/>.
    /// </summary>
    public void Connected(EmulatedAccount account)
    {
        var reconnect = account.Intent?.IsReconnect ?? false;
        account.Intent = null;
        webhooks.AccountStatus(account, reconnect ? "RECONNECTED" : "CREATION_SUCCESS");
        if (account.Provider == Wire.Telegram && options.Value.TelegramConfirmDelay > TimeSpan.Zero)
        {
            SetStatus(account, "CONNECTING", notify: false);
            _ = ConfirmLaterAsync(account, account.StatusVersion);
            return;
        }
        SetStatus(account, "OK", notify: true);
    }

    public void SetStatus(EmulatedAccount account, string status, bool notify)
    {
        account.Status = status;
        account.StatusVersion++;
        if (notify)
        {
            webhooks.AccountStatus(account, status);
        }
    }

    public void Deleted(EmulatedAccount account) => webhooks.AccountStatus(account, "DELETED");

    private async Task ConfirmLaterAsync(EmulatedAccount account, int version)
    {
        await Task.Delay(options.Value.TelegramConfirmDelay, time);
        lock (state.Sync)
        {
            if (state.Accounts.Contains(account) && account.StatusVersion == version && account.Intent is null)
            {
                SetStatus(account, "OK", notify: true);
            }
        }
    }
}
