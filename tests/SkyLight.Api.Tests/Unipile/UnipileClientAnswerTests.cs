using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using SkyLight.Api.Unipile;

namespace SkyLight.Api.Tests.Unipile;

/// <summary>
/// Answers the emulator never gives but a real Unipile (or a proxy in front of it) might: the client must turn
/// each into one clear UnipileException, never a crash or a misread.
/// </summary>
public sealed class UnipileClientAnswerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AnHtmlErrorPageKeepsItsStatus()
    {
        var error = await Assert.ThrowsAsync<UnipileException>(() =>
            ClientAnswering(HttpStatusCode.BadGateway, "<html>bad gateway</html>", "text/html").GetAccountAsync("a", Ct));

        Assert.Equal((HttpStatusCode.BadGateway, "http/502", "Bad Gateway"), (error.StatusCode, error.Type, error.Title));
    }

    /// <summary>A 2xx the client cannot use is recorded as what it was, not as a successful call.</summary>
    [Fact]
    public async Task AnAnswerThatCannotBeReadIsCountedAsUnexpectedNotAsSuccess()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var outcomes = new List<(string? Operation, string? Outcome)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == services.GetRequiredService<IMeterFactory>() && instrument.Name == "skylight.unipile.call.duration")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            var all = tags.ToArray();
            outcomes.Add((all.Single(t => t.Key == "operation").Value as string, all.Single(t => t.Key == "outcome").Value as string));
        });
        listener.Start();
        var http = new HttpClient(new Answering(HttpStatusCode.OK, "{\"object\":\"Surprise\"}", "application/json")) { BaseAddress = new Uri("http://unipile.test/") };
        var client = new UnipileClient(http, new Api.Observability.SkyLightMetrics(services.GetRequiredService<IMeterFactory>()));

        await Assert.ThrowsAsync<UnipileException>(() => client.GetAccountAsync("a", Ct));

        Assert.Equal([("get_account", "unexpected_response")], outcomes);
    }

    [Fact]
    public async Task AnErrorEnvelopeWithOddTypesKeepsItsStatus()
    {
        var error = await Assert.ThrowsAsync<UnipileException>(() =>
            ClientAnswering(HttpStatusCode.ServiceUnavailable, """{"type":503,"title":["x"],"detail":null}""").DeleteAccountAsync("a", Ct));

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "http/503"), (error.StatusCode, error.Type));
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("""{"object":"Surprise","account_id":"a"}""")]
    [InlineData("""{"object":"Checkpoint","account_id":"a"}""")]
    [InlineData("""{"object":"AccountCreated"}""")]
    public async Task ASuccessWeCannotUseIsAnUnexpectedResponse(string body)
    {
        var error = await Assert.ThrowsAsync<UnipileException>(() =>
            ClientAnswering(HttpStatusCode.Created, body).ConnectAsync(new ConnectRequest(UnipileProvider.WhatsApp), Ct));

        Assert.Equal(UnipileException.UnexpectedResponse, error.Type);
    }

    [Fact]
    public async Task ANullWhereUnipilePromisedAListIsAnUnexpectedResponse()
    {
        var error = await Assert.ThrowsAsync<UnipileException>(() =>
            ClientAnswering(HttpStatusCode.OK, """{"object":"AccountList","items":null,"cursor":null}""").ListAccountsAsync(null, 10, Ct));

        Assert.Equal(UnipileException.UnexpectedResponse, error.Type);
    }

    [Fact]
    public async Task UnknownFieldsAndAMissingContentTypeAreFine()
    {
        var account = await ClientAnswering(HttpStatusCode.OK,
            """{"object":"Account","type":"WHATSAPP","id":"a","name":"n","future_field":{"x":1},"connection_params":{"im":{"phone_number":"966"}},"sources":[{"id":"s","status":"OK","extra":true}]}""",
            contentType: null).GetAccountAsync("a", Ct);

        Assert.Equal(("a", "OK", "966"), (account.Id, account.Status, account.Im!.PhoneNumber));
    }

    [Fact]
    public async Task ListingStopsWhenACursorRepeats()
    {
        var client = ClientAnswering(HttpStatusCode.OK, """{"object":"AccountList","items":[],"cursor":"c2FtZQ=="}""");
        var pages = 0;

        await foreach (var _ in client.ListAllAccountsAsync(Ct))
        {
            pages++;
        }

        Assert.Equal(0, pages);   // it ended: the second page repeated the first page's cursor
    }

    private static UnipileClient ClientAnswering(HttpStatusCode status, string body, string? contentType = "application/json")
    {
        var http = new HttpClient(new Answering(status, body, contentType)) { BaseAddress = new Uri("http://unipile.test/") };
        var metrics = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        return new UnipileClient(http, new Api.Observability.SkyLightMetrics(metrics));
    }

    /// <summary>A fake Unipile that gives one fixed answer.</summary>
    private sealed class Answering(HttpStatusCode status, string body, string? contentType) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
            return Task.FromResult(new HttpResponseMessage(status) { Content = content });
        }
    }
}
