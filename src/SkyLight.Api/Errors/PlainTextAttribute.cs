using System.ComponentModel.DataAnnotations;

namespace SkyLight.Api.Errors;

/// <summary>
/// Text without control characters (tab and line breaks aside). A NUL cannot be stored in PostgreSQL text and no
/// name, code or id has one, so such a value is a 422 on its field rather than a database error.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
internal sealed class PlainTextAttribute() : ValidationAttribute("The {0} field must not contain control characters.")
{
    public override bool IsValid(object? value) => value is not string text || !text.Any(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r'));
}
