"""Money that every package checks the same way: ISO 4217 currency codes and the largest
amount one operation may name."""

from __future__ import annotations

# Active ISO 4217 currency codes (2025). Fund, metal and testing codes (XAU, XDR, XTS, XXX,
# ...) are left out on purpose: no credit line is drawn in them.
_ISO_4217_CODES = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES
    KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
    MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON
    RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND
    TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW
    ZWG
"""
ISO_4217: frozenset[str] = frozenset(_ISO_4217_CODES.split())


def currency_problem(value: object) -> str | None:
    """Why ``value`` is no currency code, or None for an active ISO 4217 code."""
    if not isinstance(value, str) or value not in ISO_4217:
        shown = value[:20] if isinstance(value, str) else value
        return f"currency {shown!r} is not an ISO 4217 code (three capitals, e.g. CNY)"
    return None


# The most money one operation may name: 10 trillion yuan in fen. Larger amounts are typing
# errors, and the ledger's running totals must stay far from 64 bits.
MAX_MONEY_MINOR = 10**15


def money_problem(amount: int, what: str) -> str | None:
    """Why ``amount`` is not a positive amount of minor units within the cap, or None."""
    if amount <= 0:
        return f"{what} must be positive (minor units), got {amount}"
    if amount > MAX_MONEY_MINOR:
        return f"{what} is at most {MAX_MONEY_MINOR} minor units, got {amount}"
    return None
