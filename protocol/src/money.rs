//! Money: integer minor units and an ISO 4217 currency. No floats anywhere.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Errors of money parsing and validation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    #[error("`{0}` is not an ISO 4217 currency code (e.g. EUR, USD, CHF)")]
    UnknownCurrency(String),
    #[error("`{0}` is not an amount: write a number followed by a currency code, e.g. 600EUR or 1250.50EUR")]
    InvalidAmount(String),
    #[error("{currency} has {exponent} decimal places, `{text}` has more")]
    TooManyDecimals {
        text: String,
        currency: Currency,
        exponent: u8,
    },
    #[error("the amount `{0}` is too large")]
    Overflow(String),
    #[error("an amount must be more than zero")]
    Zero,
}

/// An ISO 4217 currency that has a minor unit (e.g. EUR, JPY; not XAU).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn code(&self) -> &str {
        // Only ASCII uppercase letters are ever stored (checked in `from_str`).
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Number of decimal places of the minor unit (2 for EUR, 0 for JPY).
    pub fn exponent(&self) -> u8 {
        iso_currency::Currency::from_code(self.code())
            .and_then(|c| c.exponent())
            .map_or(0, |e| e as u8)
    }
}

impl FromStr for Currency {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.to_ascii_uppercase();
        let known = iso_currency::Currency::from_code(&upper).is_some_and(|c| c.exponent().is_some());
        if upper.len() != 3 || !upper.bytes().all(|b| b.is_ascii_uppercase()) || !known {
            return Err(Error::UnknownCurrency(s.chars().take(20).collect()));
        }
        let b = upper.as_bytes();
        Ok(Self([b[0], b[1], b[2]]))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let c: Currency = s.parse().map_err(serde::de::Error::custom)?;
        if c.code() != s {
            return Err(serde::de::Error::custom("currency codes are stored in uppercase"));
        }
        Ok(c)
    }
}

/// An amount of money in minor units (cents for EUR).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Money {
    pub amount_minor: u64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount_minor: u64, currency: Currency) -> Self {
        Self { amount_minor, currency }
    }
}

impl FromStr for Money {
    type Err = Error;

    /// Parses `600EUR`, `1250.50EUR`, `1250.50 EUR` or `1250.5eur`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let split = text
            .find(|c: char| c.is_ascii_alphabetic())
            .ok_or_else(|| Error::InvalidAmount(text.chars().take(40).collect()))?;
        let (number, code) = text.split_at(split);
        let number = number.trim();
        let currency: Currency = code.trim().parse()?;
        let invalid = || Error::InvalidAmount(text.chars().take(40).collect());
        let (whole, frac) = match number.split_once('.') {
            Some((w, f)) => (w, f),
            None => (number, ""),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        if number.ends_with('.') {
            return Err(invalid());
        }
        let exponent = currency.exponent();
        if frac.len() > usize::from(exponent) {
            return Err(Error::TooManyDecimals {
                text: text.chars().take(40).collect(),
                currency,
                exponent,
            });
        }
        let overflow = || Error::Overflow(text.chars().take(40).collect());
        let whole: u64 = whole.parse().map_err(|_| overflow())?;
        let mut minor = whole.checked_mul(10u64.pow(u32::from(exponent))).ok_or_else(overflow)?;
        if !frac.is_empty() {
            let frac_value: u64 = frac.parse().map_err(|_| invalid())?;
            let scale = 10u64.pow(u32::from(exponent) - frac.len() as u32);
            minor = minor.checked_add(frac_value * scale).ok_or_else(overflow)?;
        }
        if minor == 0 {
            return Err(Error::Zero);
        }
        Ok(Money::new(minor, currency))
    }
}

impl fmt::Display for Money {
    /// `1250.50 EUR`, `600 JPY`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            format_minor(self.amount_minor, self.currency),
            self.currency
        )
    }
}

/// Sums of money, one per currency (e.g. what is pledged to a need).
///
/// Serialised as an object from currency code to minor units, codes in
/// alphabetical order: `{"EUR": 60000, "USD": 500}`. A sum saturates at
/// `u64::MAX` rather than wrapping.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Totals(BTreeMap<Currency, u64>);

impl Totals {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `m` to its currency's sum (a currency added once stays listed,
    /// even with a zero sum).
    pub fn add(&mut self, m: Money) {
        let sum = self.0.entry(m.currency).or_insert(0);
        *sum = sum.saturating_add(m.amount_minor);
    }

    /// Adds every sum of `other`.
    pub fn add_all(&mut self, other: &Totals) {
        for m in other.iter() {
            self.add(m);
        }
    }

    /// The sum in `currency` (0 if none).
    pub fn get(&self, currency: Currency) -> u64 {
        self.0.get(&currency).copied().unwrap_or(0)
    }

    /// The sums, in the order of their currency codes.
    pub fn iter(&self) -> impl Iterator<Item = Money> + '_ {
        self.0.iter().map(|(c, a)| Money::new(*a, *c))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Money> for Totals {
    fn from_iter<I: IntoIterator<Item = Money>>(iter: I) -> Self {
        let mut t = Totals::new();
        for m in iter {
            t.add(m);
        }
        t
    }
}

/// `amount_minor` as a decimal number in `currency`'s unit: 125050 EUR → `1250.50`.
pub fn format_minor(amount_minor: u64, currency: Currency) -> String {
    let exp = u32::from(currency.exponent());
    if exp == 0 {
        return amount_minor.to_string();
    }
    let scale = 10u64.pow(exp);
    format!(
        "{}.{:0width$}",
        amount_minor / scale,
        amount_minor % scale,
        width = exp as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        "EUR".parse().unwrap()
    }

    #[test]
    fn amounts_parse_to_minor_units() {
        assert_eq!("600EUR".parse::<Money>().unwrap(), Money::new(60_000, eur()));
        assert_eq!("1250.50EUR".parse::<Money>().unwrap(), Money::new(125_050, eur()));
        assert_eq!("1250.5 eur".parse::<Money>().unwrap(), Money::new(125_050, eur()));
        assert_eq!("1000JPY".parse::<Money>().unwrap().amount_minor, 1000);
        assert_eq!("1.234BHD".parse::<Money>().unwrap().amount_minor, 1234);
        assert_eq!(Money::new(125_050, eur()).to_string(), "1250.50 EUR");
    }

    #[test]
    fn totals_sum_per_currency_and_serialise_as_codes_to_minor_units() {
        let usd: Currency = "USD".parse().unwrap();
        let chf: Currency = "CHF".parse().unwrap();
        let t: Totals = [
            Money::new(500, usd),
            Money::new(40_000, eur()),
            Money::new(20_000, eur()),
            Money::new(7, chf),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            (t.get(eur()), t.get(usd), t.get("JPY".parse().unwrap())),
            (60_000, 500, 0)
        );
        let order: Vec<String> = t.iter().map(|m| m.to_string()).collect();
        assert_eq!(order, ["0.07 CHF", "600.00 EUR", "5.00 USD"]);
        // The same bytes as the map of codes it replaces.
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"CHF":7,"EUR":60000,"USD":500}"#);
        let codes: BTreeMap<String, u64> = [("USD", 500), ("EUR", 60_000), ("CHF", 7)]
            .map(|(c, a)| (c.to_owned(), a))
            .into();
        assert_eq!(json, serde_json::to_string(&codes).unwrap());
        assert_eq!(serde_json::from_str::<Totals>(&json).unwrap(), t);
        assert!(
            serde_json::from_str::<Totals>(r#"{"eur":1}"#).is_err(),
            "codes are uppercase"
        );

        let mut big = Totals::new();
        big.add(Money::new(u64::MAX - 1, eur()));
        big.add_all(&t);
        assert_eq!(big.get(eur()), u64::MAX, "saturates");
        assert_eq!(big.get(usd), 500);
    }

    #[test]
    fn bad_amounts_say_what_is_wrong() {
        assert_eq!("10XYZ".parse::<Money>(), Err(Error::UnknownCurrency("XYZ".into())));
        assert!(matches!("10.5JPY".parse::<Money>(), Err(Error::TooManyDecimals { .. })));
        assert!(matches!(
            "1.005EUR".parse::<Money>(),
            Err(Error::TooManyDecimals { .. })
        ));
        assert!(matches!("EUR".parse::<Money>(), Err(Error::InvalidAmount(_))));
        assert!(matches!("-5EUR".parse::<Money>(), Err(Error::InvalidAmount(_))));
        assert!(matches!("5.EUR".parse::<Money>(), Err(Error::InvalidAmount(_))));
        assert_eq!("0EUR".parse::<Money>(), Err(Error::Zero));
        assert!(matches!(
            "99999999999999999999EUR".parse::<Money>(),
            Err(Error::Overflow(_))
        ));
        assert!("10 XAU".parse::<Money>().is_err(), "gold has no minor unit");
    }
}
