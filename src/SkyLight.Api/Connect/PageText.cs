using SkyLight.Api.Channels;

namespace SkyLight.Api.Connect;

/// <summary>
/// Every text of the hosted connect page, in English and Arabic. The page picks one language for the whole document:
/// <c>?lang=</c> when given, else the first of Accept-Language that it speaks, else English.
/// </summary>
internal static class PageText
{
    public const string English = "en";
    public const string Arabic = "ar";

    public static string Language(HttpRequest request)
    {
        var chosen = request.Query["lang"].ToString();
        if (chosen is English or Arabic)
        {
            return chosen;
        }
        var preferred = request.GetTypedHeaders().AcceptLanguage.OrderByDescending(l => l.Quality ?? 1)
            .Select(l => l.Value.Value?.Split('-')[0].ToLowerInvariant()).FirstOrDefault(l => l is English or Arabic);
        return preferred ?? English;
    }

    public static IReadOnlyDictionary<string, string> For(string language, string channelType) =>
        language == Arabic ? ArabicTexts(ArabicName(channelType), channelType) : EnglishTexts(ChannelNames.Display(channelType), channelType);

    private static string ArabicName(string type) => type switch
    {
        ChannelTypes.WhatsApp => "واتساب",
        ChannelTypes.Telegram => "تيليجرام",
        _ => "إنستغرام",
    };

    private static Dictionary<string, string> EnglishTexts(string name, string type) => new()
    {
        ["title"] = $"Connect {name}",
        ["loading"] = "Preparing…",
        ["qr_heading"] = $"Scan the code with {name}",
        ["qr_alt"] = $"QR code to scan with {name} on your phone",
        ["instructions"] = type == ChannelTypes.Telegram
            ? "Open Telegram → Settings → Devices → Link Desktop Device, then scan."
            : "Scan with WhatsApp on your phone: Settings → Linked devices → Link a device.",
        ["countdown"] = "This code expires in {0}.",
        ["expired_heading"] = "This code has expired",
        ["expired_text"] = "A code is valid for a few minutes. Generate a new one and scan it.",
        ["new_code"] = "Generate a new code",
        ["error_heading"] = "The connection did not complete",
        ["try_again"] = "Try again",
        ["success_heading"] = $"{name} is connected",
        ["success_text"] = "All done. You can close this page.",
        ["redirecting"] = "Taking you back…",
        ["continue"] = "Continue",
        ["login_heading"] = $"Log in to {name}",
        ["username"] = "Username",
        ["password"] = "Password",
        ["password_note"] = "Your password is used once to log in. It is never stored.",
        ["login_submit"] = "Log in",
        ["code_heading"] = "Enter the verification code",
        ["code_text"] = $"{name} sent a code to your phone or email.",
        ["round"] = "Verification step {0}",
        ["code_label"] = "Verification code",
        ["code_submit"] = "Verify",
        ["resend"] = "Resend the code",
        ["resend_in"] = "Resend in {0} s",
        ["cancel"] = "Cancel",
        ["invalid_text"] = "Ask whoever sent you this link for a new one.",
        ["link_unknown"] = "This link does not exist",
        ["link_expired"] = "This link has expired",
        ["link_revoked"] = "This link is no longer valid",
        ["link_used"] = "This link was already used",
        ["wrong_password"] = "The username or password is incorrect.",
        ["wrong_code"] = "That code is not right. Check it and try again.",
        ["captcha"] = $"{name} asked for a security check (a CAPTCHA) that cannot be completed here. Log in once in the {name} app, then try again.",
        ["checkpoint_unsupported"] = $"{name} asked for a security check that cannot be completed here. Log in once in the {name} app, then try again.",
        ["too_many_tries"] = "Too many tries. Wait a few minutes, then try again.",
        ["resend_cooldown"] = "A code was sent moments ago. Wait a little before asking again.",
        ["resent"] = "A new code has been sent.",
        ["another_round"] = "One more step: enter the new code.",
        ["already_connected"] = $"{name} is already connected for this account.",
        ["unavailable"] = "The service cannot be reached right now. Try again in a moment.",
        ["failed"] = "The login did not complete. Try again.",
        ["login_expired"] = "The verification took too long. Log in again.",
        ["reload"] = "This page has expired. Reload it.",
    };

    private static Dictionary<string, string> ArabicTexts(string name, string type) => new()
    {
        ["title"] = $"ربط {name}",
        ["loading"] = "جارٍ التجهيز…",
        ["qr_heading"] = $"امسح الرمز باستخدام {name}",
        ["qr_alt"] = $"رمز استجابة سريعة لمسحه بتطبيق {name} على هاتفك",
        ["instructions"] = type == ChannelTypes.Telegram
            ? "افتح تيليجرام ← الإعدادات ← الأجهزة ← ربط جهاز سطح المكتب، ثم امسح الرمز."
            : "امسح الرمز بتطبيق واتساب على هاتفك: الإعدادات ← الأجهزة المرتبطة ← ربط جهاز.",
        ["countdown"] = "تنتهي صلاحية هذا الرمز خلال {0}.",
        ["expired_heading"] = "انتهت صلاحية الرمز",
        ["expired_text"] = "الرمز صالح لبضع دقائق فقط. أنشئ رمزًا جديدًا وامسحه.",
        ["new_code"] = "إنشاء رمز جديد",
        ["error_heading"] = "لم يكتمل الربط",
        ["try_again"] = "حاول مرة أخرى",
        ["success_heading"] = $"تم ربط {name}",
        ["success_text"] = "اكتمل كل شيء. يمكنك إغلاق هذه الصفحة.",
        ["redirecting"] = "جارٍ إعادتك…",
        ["continue"] = "متابعة",
        ["login_heading"] = $"تسجيل الدخول إلى {name}",
        ["username"] = "اسم المستخدم",
        ["password"] = "كلمة المرور",
        ["password_note"] = "تُستخدم كلمة المرور مرة واحدة لتسجيل الدخول ولا تُحفظ أبدًا.",
        ["login_submit"] = "تسجيل الدخول",
        ["code_heading"] = "أدخل رمز التحقق",
        ["code_text"] = $"أرسل {name} رمزًا إلى هاتفك أو بريدك الإلكتروني.",
        ["round"] = "خطوة التحقق {0}",
        ["code_label"] = "رمز التحقق",
        ["code_submit"] = "تحقّق",
        ["resend"] = "إعادة إرسال الرمز",
        ["resend_in"] = "إعادة الإرسال بعد {0} ث",
        ["cancel"] = "إلغاء",
        ["invalid_text"] = "اطلب رابطًا جديدًا ممن أرسل إليك هذا الرابط.",
        ["link_unknown"] = "هذا الرابط غير موجود",
        ["link_expired"] = "انتهت صلاحية هذا الرابط",
        ["link_revoked"] = "هذا الرابط لم يعد صالحًا",
        ["link_used"] = "تم استخدام هذا الرابط من قبل",
        ["wrong_password"] = "اسم المستخدم أو كلمة المرور غير صحيحة.",
        ["wrong_code"] = "الرمز غير صحيح. تحقّق منه وحاول مرة أخرى.",
        ["captcha"] = $"طلب {name} تحققًا أمنيًا (اختبار التحقق البشري) لا يمكن إكماله هنا. سجّل الدخول مرة واحدة في تطبيق {name} ثم حاول مجددًا.",
        ["checkpoint_unsupported"] = $"طلب {name} تحققًا أمنيًا لا يمكن إكماله هنا. سجّل الدخول مرة واحدة في تطبيق {name} ثم حاول مجددًا.",
        ["too_many_tries"] = "محاولات كثيرة. انتظر بضع دقائق ثم حاول مجددًا.",
        ["resend_cooldown"] = "أُرسل رمز قبل لحظات. انتظر قليلًا قبل طلب رمز آخر.",
        ["resent"] = "تم إرسال رمز جديد.",
        ["another_round"] = "خطوة إضافية: أدخل الرمز الجديد.",
        ["already_connected"] = $"{name} مرتبط بالفعل لهذا الحساب.",
        ["unavailable"] = "تعذّر الوصول إلى الخدمة حاليًا. حاول بعد قليل.",
        ["failed"] = "لم يكتمل تسجيل الدخول. حاول مجددًا.",
        ["login_expired"] = "استغرق التحقق وقتًا طويلًا. سجّل الدخول مرة أخرى.",
        ["reload"] = "انتهت صلاحية هذه الصفحة. أعد تحميلها.",
    };
}
