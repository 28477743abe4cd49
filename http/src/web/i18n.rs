//! English and French: the translation table ([`t`]), and numbers, money,
//! percents and dates written the way each language writes them.
//!
//! Keys are plain `&'static str`s; the table is one `match` where every arm
//! carries both languages, so a key cannot lack a translation, and a test
//! checks that every key the pages use is in the table.

use mutu_protocol::money::{Currency, Money, format_minor};
use mutu_protocol::{Date, Timestamp};

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    /// The BCP 47 tag (`<html lang>`, the `lang` cookie and query value).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// `en`, `fr`, `fr-FR`, `EN-gb` … ; anything else is `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else if primary.eq_ignore_ascii_case("fr") {
            Some(Lang::Fr)
        } else {
            None
        }
    }

    /// The preferred supported language of an `Accept-Language` header
    /// (highest `q` first; ties keep header order).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(Lang, f32)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.trim().parse::<f32>().ok()))
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(_, bq)| q > bq) {
                best = Some((lang, q));
            }
        }
        best.map(|(l, _)| l)
    }
}

macro_rules! table {
    ($($key:literal => $en:literal, $fr:literal;)*) => {
        /// Every key of the table.
        pub const KEYS: &[&str] = &[$($key),*];

        /// The text of `key` in `lang`; an unknown key is shown as itself
        /// (a test keeps that from happening).
        pub fn t(lang: Lang, key: &'static str) -> &'static str {
            let (en, fr) = match key {
                $($key => ($en, $fr),)*
                _ => (key, key),
            };
            match lang {
                Lang::En => en,
                Lang::Fr => fr,
            }
        }
    };
}

table! {
    // Layout
    "site.name" => "mutu", "mutu";
    "site.tagline" => "Pooled free software, peer to peer", "Le logiciel libre mutualisé, de pair à pair";
    "nav.home" => "Home", "Accueil";
    "nav.needs" => "Needs", "Besoins";
    "nav.projects" => "Projects", "Projets";
    "nav.catalogues" => "Catalogues", "Catalogues";
    "nav.members" => "Members", "Membres";
    "nav.network" => "Network", "Réseau";
    "nav.search" => "Search", "Rechercher";
    "nav.main" => "Main navigation", "Navigation principale";
    "nav.language" => "Language", "Langue";
    "nav.skip" => "Skip to content", "Aller au contenu";
    "auth.signed_in" => "Signed in", "Connecté";
    "auth.sign_in" => "Sign in", "Se connecter";
    "auth.sign_out" => "Sign out", "Se déconnecter";
    // Signing in and the owner's forms (web/forms.rs)
    "login.title" => "Sign in to write", "Se connecter pour écrire";
    "login.how" => "Only the owner of this node can write from the browser. On the machine that runs the node, run this command; it prints a sign-in link:", "Seul le propriétaire de ce nœud peut écrire depuis le navigateur. Sur la machine où tourne le nœud, lancez cette commande ; elle affiche un lien de connexion :";
    "login.once" => "Each link works once, for 10 minutes. `mutu run` also prints one when the node starts.", "Chaque lien ne sert qu'une fois, pendant 10 minutes. `mutu run` en affiche aussi un au démarrage du nœud.";
    "login.signed_in_text" => "You can post needs and projects, pledge, cosign and make offers from the pages.", "Vous pouvez publier des besoins et des projets, promettre, cosigner et faire des offres depuis les pages.";
    "login.invalid" => "This sign-in link does not work", "Ce lien de connexion ne fonctionne pas";
    "login.invalid_text" => "It was already used, it expired, or the node restarted. Run `mutu ui` for a new one.", "Il a déjà servi, il a expiré, ou le nœud a redémarré. Lancez `mutu ui` pour en obtenir un nouveau.";
    "form.forbidden" => "Request refused", "Requête refusée";
    "form.forbidden_text" => "This form is out of date or was sent from another site. Reload the page and try again.", "Ce formulaire est périmé ou a été envoyé depuis un autre site. Rechargez la page et réessayez.";
    "form.required" => "required", "obligatoire";
    "form.publish" => "Publish", "Publier";
    "form.save" => "Save", "Enregistrer";
    "form.new_need" => "New need", "Nouveau besoin";
    "form.new_project" => "New project", "Nouveau projet";
    "form.title" => "Title", "Titre";
    "form.name" => "Name", "Nom";
    "form.description" => "Description", "Description";
    "form.tags" => "Tags", "Étiquettes";
    "form.tags_hint" => "Comma-separated, e.g. accounting, invoices", "Séparées par des virgules, par ex. comptabilité, factures";
    "form.project" => "Project", "Projet";
    "form.id_hint" => "Its id, or the first characters of it", "Son identifiant, ou ses premiers caractères";
    "form.goal" => "Money goal", "Objectif financier";
    "form.money_hint" => "An amount and a currency, e.g. 600 EUR or 1250.50 EUR", "Un montant et une devise, par ex. 600 EUR ou 1250.50 EUR";
    "form.days_goal" => "Developer-days goal", "Objectif en jours de développement";
    "form.deadline" => "Deadline", "Échéance";
    "form.license" => "License", "Licence";
    "form.license_hint" => "An SPDX expression, e.g. AGPL-3.0-or-later", "Une expression SPDX, par ex. AGPL-3.0-or-later";
    "form.repository" => "Repository URL", "URL du dépôt";
    "form.homepage" => "Home page URL", "URL du site";
    "form.dev_status" => "Development status", "État du développement";
    "form.dev.concept" => "Concept", "Concept";
    "form.dev.development" => "In development", "En développement";
    "form.dev.beta" => "Beta", "Bêta";
    "form.dev.stable" => "Stable", "Stable";
    "form.dev.obsolete" => "Obsolete", "Obsolète";
    "form.is_based_on" => "Fork or variant of", "Fork ou variante de";
    "form.for_need" => "Need:", "Besoin :";
    "form.pledge" => "Pledge", "Promettre";
    "form.pledge_one" => "Give exactly one of money, developer-days, hosting, testing or something else.", "Indiquez une seule chose : argent, jours de développement, hébergement, tests ou autre.";
    "form.pledge_submit" => "Pledge", "Promettre";
    "form.money" => "Money", "Argent";
    "form.days" => "Developer-days", "Jours de développement";
    "form.hosting" => "Hosting", "Hébergement";
    "form.testing" => "Testing", "Tests";
    "form.other" => "Something else", "Autre chose";
    "form.if_funded" => "Only if the goal is reached", "Seulement si l'objectif est atteint";
    "form.if_funded_hint" => "All or nothing: the pledge holds only if the need is fully funded.", "Tout ou rien : la promesse ne vaut que si le besoin est entièrement financé.";
    "form.expires_at" => "Expires on", "Expire le";
    "form.cosign" => "Cosign", "Cosigner";
    "form.cosign_submit" => "We need this too", "Nous en avons besoin aussi";
    "form.note" => "Note", "Note";
    "form.offer" => "Make an offer", "Faire une offre";
    "form.offer_submit" => "Send the offer", "Envoyer l'offre";
    "form.price" => "Price", "Prix";
    "form.valid_until" => "Valid until", "Valable jusqu'au";
    "form.status" => "Change the status", "Changer l'état";
    "form.need_status" => "Status", "État";
    "form.need.open" => "Open", "Ouvert";
    "form.need.in_progress" => "In progress", "En cours";
    "form.need.delivered" => "Delivered", "Livré";
    "form.need.withdrawn" => "Withdrawn", "Retiré";
    "form.withdraw" => "Withdraw a pledge", "Retirer une promesse";
    "form.withdraw_text" => "Withdraw your pledge on", "Retirer votre promesse pour";
    "form.withdraw_submit" => "Withdraw", "Retirer";
    "form.retract" => "Retract", "Rétracter";
    "form.retract_text" => "Retract your", "Rétracter votre enregistrement";
    "form.retract_warning" => "A retraction is for good: it cannot be undone.", "Une rétractation est définitive : elle ne peut pas être annulée.";
    "form.retract_submit" => "Retract for good", "Rétracter définitivement";
    "need.new" => "New need", "Nouveau besoin";
    "footer.text" => "Every member signs their own statements; this node shows what it has received.", "Chaque membre signe ses propres déclarations ; ce nœud affiche ce qu'il a reçu.";
    "footer.api" => "JSON API", "API JSON";
    "search.placeholder" => "Search projects, needs, members…", "Rechercher projets, besoins, membres…";
    "search.label" => "Search the registry", "Rechercher dans le registre";
    // Common
    "common.none" => "none", "aucun";
    "common.unknown" => "unknown", "inconnu";
    "common.by" => "by", "par";
    "common.published" => "published", "publié le";
    "common.record_id" => "Record id:", "Identifiant :";
    // Record kinds
    "kind.profile" => "Member", "Membre";
    "kind.project" => "Project", "Projet";
    "kind.usage" => "Usage", "Utilisation";
    "kind.need" => "Need", "Besoin";
    "kind.cosign" => "Co-signature", "Cosignature";
    "kind.pledge" => "Pledge", "Promesse";
    "kind.offer" => "Offer", "Offre";
    "kind.catalogue" => "Catalogue", "Catalogue";
    "kind.catalogue_entry" => "Catalogue entry", "Entrée de catalogue";
    "kind.vouch" => "Vouch", "Recommandation";
    "kind.tombstone" => "Retraction", "Retrait";
    // Statuses
    "need_status.open" => "Open", "Ouvert";
    "need_status.in_progress" => "In progress", "En cours";
    "need_status.delivered" => "Delivered", "Livré";
    "need_status.withdrawn" => "Withdrawn", "Retiré";
    "funding.open" => "Collecting", "En collecte";
    "funding.funded" => "Funded", "Financé";
    "funding.expired" => "Expired", "Expiré";
    "funding.progress" => "Funded:", "Financé :";
    "funding.no_goal" => "No goal set", "Pas d'objectif";
    "effect.active" => "Active", "Active";
    "effect.conditional" => "Conditional", "Conditionnelle";
    "effect.committed" => "Committed", "Engagée";
    "effect.released" => "Released", "Libérée";
    "effect.expired" => "Expired", "Expirée";
    "effect.withdrawn" => "Withdrawn", "Retirée";
    "effect.fulfilled" => "Fulfilled", "Honorée";
    "entry.recommended" => "Recommended", "Recommandé";
    "entry.observation" => "Under observation", "En observation";
    "entry.deprecated" => "Deprecated", "Déconseillé";
    "dev.concept" => "Concept", "Concept";
    "dev.development" => "In development", "En développement";
    "dev.beta" => "Beta", "Bêta";
    "dev.stable" => "Stable", "Stable";
    "dev.obsolete" => "Obsolete", "Obsolète";
    "member_kind.sme" => "Small business", "PME";
    "member_kind.association" => "Association", "Association";
    "member_kind.public_body" => "Public body", "Collectivité ou administration";
    "member_kind.provider" => "Service provider", "Prestataire";
    "member_kind.individual" => "Individual", "Particulier";
    "member_kind.research" => "Research", "Recherche";
    "resource.money" => "Money", "Argent";
    "resource.dev_days" => "Developer-days", "Jours de développement";
    "resource.hosting" => "Hosting", "Hébergement";
    "resource.testing" => "Testing", "Tests";
    "resource.other" => "Other", "Autre";
    "unit.dev_day" => "developer-day", "jour de développement";
    "unit.dev_days" => "developer-days", "jours de développement";
    // Filters
    "filter.tag" => "Tag", "Étiquette";
    "filter.status" => "Status", "Statut";
    "filter.funding" => "Funding", "Financement";
    "filter.sort" => "Sort by", "Trier par";
    "filter.any" => "Any", "Tous";
    "filter.apply" => "Apply", "Appliquer";
    "filter.reset" => "Reset", "Réinitialiser";
    "sort.newest" => "Newest", "Plus récents";
    "sort.percent" => "Most funded", "Les mieux financés";
    "sort.deadline" => "Deadline", "Échéance";
    // Home
    "home.title" => "Free software, pooled", "Le logiciel libre, mutualisé";
    "home.lead" => "Organisations say which free software they use, what they need, and what they pledge toward it. Every statement is signed by its author and shared peer to peer: nobody holds the money, nobody owns the registry.", "Les organisations déclarent les logiciels libres qu'elles utilisent, ce dont elles ont besoin et ce qu'elles promettent pour y parvenir. Chaque déclaration est signée par son auteur et partagée de pair à pair : personne ne détient l'argent, personne ne possède le registre.";
    "home.figures" => "Key figures", "Chiffres clés";
    "home.members" => "members", "membres";
    "home.projects" => "projects", "projets";
    "home.open_needs" => "open needs", "besoins ouverts";
    "home.funded_needs" => "funded needs", "besoins financés";
    "home.catalogues" => "catalogues", "catalogues";
    "home.pledged" => "Pledged so far", "Promis à ce jour";
    "home.pledged_help" => "Active pledges on all needs, per currency. No money is collected by mutu.", "Promesses actives sur tous les besoins, par devise. mutu ne collecte aucun argent.";
    "home.nothing_pledged" => "Nothing pledged yet.", "Aucune promesse pour l'instant.";
    "home.recent" => "Recent activity", "Activité récente";
    "home.no_activity" => "Nothing published yet.", "Rien n'a encore été publié.";
    // Needs
    "needs.title" => "Needs", "Besoins";
    "needs.lead" => "What members need developed, fixed or hosted, and how far the pooled pledges go.", "Ce que les membres ont besoin de faire développer, corriger ou héberger, et où en sont les promesses mises en commun.";
    "needs.count" => "needs", "besoins";
    "needs.none" => "No need matches.", "Aucun besoin ne correspond.";
    "need.goal" => "Goal", "Objectif";
    "need.pledged" => "Pledged", "Promis";
    "need.deadline" => "Deadline", "Échéance";
    "need.project" => "Project", "Projet";
    "need.by" => "Posted by", "Publié par";
    "need.cosigners_short" => "co-signers", "cosignataires";
    "need.cosigner_short" => "co-signer", "cosignataire";
    "need.description" => "Description", "Description";
    "need.funding" => "Funding", "Financement";
    "need.state" => "State", "État";
    "need.funding_help" => "An assurance contract: conditional pledges commit only once the goal is reached, and are released if the deadline passes first.", "Un contrat d'assurance : les promesses conditionnelles ne sont engagées qu'une fois l'objectif atteint, et sont libérées si l'échéance passe avant.";
    "need.chart" => "Pledges over time", "Promesses dans le temps";
    "need.chart_help" => "Money pledged in the goal currency, cumulated by pledge date; the dashed line is the goal.", "Montants promis dans la devise de l'objectif, cumulés par date de promesse ; la ligne pointillée est l'objectif.";
    "need.cosigners" => "Co-signers", "Cosignataires";
    "need.cosigners_help" => "Members who need this too.", "Membres qui en ont besoin aussi.";
    "need.no_cosigners" => "No co-signer yet.", "Aucun cosignataire pour l'instant.";
    "need.pledges" => "Pledges", "Promesses";
    "need.no_pledges" => "No pledge yet.", "Aucune promesse pour l'instant.";
    "need.offers" => "Offers from providers", "Offres des prestataires";
    "need.no_offers" => "No offer yet.", "Aucune offre pour l'instant.";
    "pledge.member" => "Member", "Membre";
    "pledge.what" => "Pledge", "Promesse";
    "pledge.condition" => "Condition", "Condition";
    "pledge.effect" => "Effect now", "Effet actuel";
    "pledge.date" => "Date", "Date";
    "pledge.if_goal" => "If the goal is reached", "Si l'objectif est atteint";
    "pledge.unconditional" => "Unconditional", "Sans condition";
    "pledge.expires" => "expires", "expire le";
    "offer.price" => "Price", "Prix";
    "offer.days" => "Work", "Charge";
    "offer.valid_until" => "Valid until", "Valable jusqu'au";
    "chart.pledged" => "Pledged", "Promis";
    "chart.goal" => "Goal", "Objectif";
    // Projects
    "projects.title" => "Projects", "Projets";
    "projects.lead" => "Free software declared by members, with who uses it and what it needs.", "Les logiciels libres déclarés par les membres, avec qui les utilise et ce dont ils ont besoin.";
    "projects.count" => "projects", "projets";
    "projects.none" => "No project matches.", "Aucun projet ne correspond.";
    "project.users_count" => "users", "utilisateurs";
    "project.needs_count" => "needs", "besoins";
    "project.declared_by" => "Declared by", "Déclaré par";
    "project.about" => "About", "Présentation";
    "project.license" => "License", "Licence";
    "project.status" => "Status", "Statut";
    "project.repository" => "Repository", "Dépôt";
    "project.homepage" => "Website", "Site web";
    "project.based_on" => "Based on", "Basé sur";
    "project.fork" => "Fork or variant:", "Dérivé ou variante :";
    "project.users" => "Used by", "Utilisé par";
    "project.users_help" => "Members who signed that they use it.", "Membres qui ont signé qu'ils l'utilisent.";
    "project.catalogues" => "In catalogues", "Dans les catalogues";
    "project.no_catalogues" => "Not listed in any catalogue yet.", "Encore dans aucun catalogue.";
    "project.needs" => "Needs", "Besoins";
    "project.no_needs" => "No need about this project.", "Aucun besoin pour ce projet.";
    "project.forks" => "Forks and origins", "Dérivés et origine";
    "project.no_forks" => "No known fork.", "Aucun dérivé connu.";
    "project.providers" => "Providers", "Prestataires";
    "project.providers_help" => "Members who made offers on its needs.", "Membres ayant fait des offres sur ses besoins.";
    // Catalogues
    "catalogues.title" => "Catalogues", "Catalogues";
    "catalogues.lead" => "Curated lists of projects. A catalogue can include others: entries show where they come from.", "Des listes de projets choisies. Un catalogue peut en inclure d'autres : chaque entrée indique sa provenance.";
    "catalogues.none" => "No catalogue yet.", "Aucun catalogue pour l'instant.";
    "catalogue.entries_count" => "entries", "entrées";
    "catalogue.includes_count" => "included catalogues", "catalogues inclus";
    "catalogue.owner" => "Curated by", "Organisé par";
    "catalogue.editors" => "Editors", "Éditeurs";
    "catalogue.includes" => "Includes", "Inclut";
    "catalogue.federation_help" => "Entries of included catalogues are shown too, the nearest catalogue's winning.", "Les entrées des catalogues inclus apparaissent aussi ; celle du catalogue le plus proche l'emporte.";
    "catalogue.entries" => "Entries", "Entrées";
    "catalogue.no_entries" => "No entry yet.", "Aucune entrée pour l'instant.";
    "catalogue.project" => "Project", "Projet";
    "catalogue.status" => "Status", "Statut";
    "catalogue.note" => "Note", "Remarque";
    "catalogue.by" => "Listed by", "Ajouté par";
    "catalogue.via" => "From", "Provenance";
    "catalogue.own" => "this catalogue", "ce catalogue";
    // Members
    "members.title" => "Members", "Membres";
    "members.lead" => "Organisations and people who publish on mutu, each under their own key.", "Les organisations et personnes qui publient sur mutu, chacune avec sa propre clé.";
    "members.none" => "No member matches.", "Aucun membre ne correspond.";
    "member.records_count" => "statements", "déclarations";
    "member.vouches_count" => "vouches", "recommandations";
    "member.no_profile" => "This member has not published a profile.", "Ce membre n'a pas publié de profil.";
    "member.id" => "Member id", "Identifiant";
    "member.website" => "Website", "Site web";
    "member.vouched_by" => "Vouched for by", "Recommandé par";
    "member.equivocated" => "This member published two conflicting histories on", "Ce membre a publié deux historiques contradictoires le";
    "member.equivocated_help" => "Both versions are signed by the member and kept as evidence; this node shows the one it received first (`mutu show MEMBER --json` prints the proof).", "Les deux versions sont signées par le membre et conservées comme preuve ; ce nœud montre celle reçue en premier (`mutu show MEMBRE --json` affiche la preuve).";
    "member.vouch_help" => "A vouch says another member knows this one.", "Une recommandation signifie qu'un autre membre connaît celui-ci.";
    "member.statements" => "Statements", "Déclarations";
    "member.needs" => "Needs", "Besoins";
    "member.pledges" => "Pledges", "Promesses";
    "member.cosigns" => "Co-signed needs", "Besoins cosignés";
    "member.projects" => "Projects declared", "Projets déclarés";
    "member.usages" => "Uses", "Utilise";
    "member.catalogues" => "Catalogues", "Catalogues";
    "member.offers" => "Offers", "Offres";
    "member.vouches_given" => "Vouches for", "Recommande";
    // Network
    "network.title" => "Network", "Réseau";
    "network.lead" => "This node and the peers it is connected to right now.", "Ce nœud et les pairs auxquels il est connecté en ce moment.";
    "network.member" => "Node owner", "Propriétaire du nœud";
    "network.peer_id" => "Peer id", "Identifiant de pair";
    "network.listen" => "Listening on", "À l'écoute sur";
    "network.counters" => "Counters", "Compteurs";
    "network.peers" => "peers", "pairs";
    "network.documents" => "documents", "documents";
    "network.records" => "records", "enregistrements";
    "network.pending" => "pending changes", "modifications en attente";
    "network.rejected" => "rejected changes", "modifications rejetées";
    "network.sync_passes" => "sync passes", "synchronisations";
    "network.sync_requests" => "sync requests", "requêtes de synchronisation";
    "network.bytes_sent" => "bytes sent", "octets envoyés";
    "network.bytes_received" => "bytes received", "octets reçus";
    "network.peer_list" => "Connected peers", "Pairs connectés";
    "network.no_peers" => "No peer connected.", "Aucun pair connecté.";
    "network.address" => "Address", "Adresse";
    "network.since" => "Connected since", "Connecté depuis";
    // Search
    "search.title" => "Search", "Recherche";
    "search.words" => "Words", "Mots";
    "search.results" => "results", "résultats";
    "search.none" => "Nothing found.", "Aucun résultat.";
    "search.help" => "Search needs, projects, catalogues, offers and member profiles.", "Recherchez parmi les besoins, projets, catalogues, offres et profils de membres.";
    // Errors
    "error.not_found" => "Not found", "Introuvable";
    "error.not_found_text" => "Nothing here matches this address.", "Rien ne correspond à cette adresse.";
    "error.ambiguous" => "This short id matches several records; use a longer one.", "Cet identifiant court correspond à plusieurs enregistrements ; utilisez-en un plus long.";
    "error.internal" => "Something went wrong", "Une erreur est survenue";
    "error.internal_text" => "The node could not answer this request.", "Le nœud n'a pas pu répondre à cette requête.";
    "error.back_home" => "Back to the home page", "Retour à l'accueil";
}

const NNBSP: char = '\u{202F}';
const NBSP: char = '\u{00A0}';

/// `digits` (ASCII) grouped by thousands with `sep`.
fn group(digits: &str, sep: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * sep.len_utf8());
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// An integer: `1,250` / `1 250` (narrow no-break space).
pub fn number(lang: Lang, n: u64) -> String {
    let digits = n.to_string();
    match lang {
        Lang::En => group(&digits, ','),
        Lang::Fr => group(&digits, NNBSP),
    }
}

/// A decimal written with `.` (as [`format_minor`] writes it), localised.
fn decimal(lang: Lang, s: &str) -> String {
    let (int, frac) = s.split_once('.').map_or((s, None), |(i, f)| (i, Some(f)));
    let (sep, point) = match lang {
        Lang::En => (',', '.'),
        Lang::Fr => (NNBSP, ','),
    };
    let mut out = group(int, sep);
    if let Some(frac) = frac {
        out.push(point);
        out.push_str(frac);
    }
    out
}

fn symbol(currency: Currency) -> Option<&'static str> {
    match currency.code() {
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        _ => None,
    }
}

/// An amount in minor units.
///
/// English: `€1,250.50`, `£3.00`, other currencies `1,250.50 USD`;
/// French: `1 250,50 €`, `1 250,50 USD` (no-break spaces).
pub fn money_minor(lang: Lang, amount_minor: u64, currency: Currency) -> String {
    let n = decimal(lang, &format_minor(amount_minor, currency));
    match (lang, symbol(currency)) {
        (Lang::En, Some(sym)) => format!("{sym}{n}"),
        (Lang::En, None) => format!("{n}{NBSP}{}", currency.code()),
        (Lang::Fr, sym) => format!("{n}{NBSP}{}", sym.unwrap_or(currency.code())),
    }
}

/// [`money_minor`] of a [`Money`].
pub fn money(lang: Lang, m: &Money) -> String {
    money_minor(lang, m.amount_minor, m.currency)
}

/// A percentage: `42%` / `42 %`.
pub fn percent(lang: Lang, p: u64) -> String {
    match lang {
        Lang::En => format!("{}%", number(lang, p)),
        Lang::Fr => format!("{}{NNBSP}%", number(lang, p)),
    }
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTHS_FR: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.",
];

/// A calendar date from its parts: `3 Mar 2026` / `3 mars 2026`.
pub fn date_parts(lang: Lang, year: i32, month: u8, day: u8) -> String {
    let i = usize::from(month.clamp(1, 12)) - 1;
    match lang {
        Lang::En => format!("{day}{NBSP}{}{NBSP}{year}", MONTHS_EN[i]),
        Lang::Fr => format!("{day}{NBSP}{}{NBSP}{year}", MONTHS_FR[i]),
    }
}

/// A calendar date (e.g. a deadline).
pub fn day(lang: Lang, d: Date) -> String {
    // `Date` shows as `YYYY-MM-DD` and has no accessors.
    let s = d.to_string();
    let mut parts = s.split('-').map(|p| p.parse::<i64>().unwrap_or(1));
    let (y, m, dd) = (parts.next(), parts.next(), parts.next());
    match (y, m, dd) {
        (Some(y), Some(m), Some(dd)) => date_parts(lang, y as i32, m as u8, dd as u8),
        _ => s,
    }
}

/// The (UTC) date of a timestamp.
pub fn date(lang: Lang, ts: Timestamp) -> String {
    day(lang, ts.date())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_translations() {
        let mut seen = std::collections::BTreeSet::new();
        for key in KEYS {
            assert!(seen.insert(*key), "duplicate key {key}");
            for lang in [Lang::En, Lang::Fr] {
                let s = t(lang, key);
                assert!(!s.trim().is_empty(), "{key} is empty in {lang:?}");
            }
        }
    }

    /// Every key used in the web sources is in the table: every string
    /// literal shaped like a key of one of the table's namespaces
    /// (`"pledge.member"`), whether it goes to `ctx.t`, `t(lang, …)` or a
    /// helper such as `empty` or `column_heads`.
    #[test]
    fn every_used_key_is_in_the_table() {
        use std::collections::HashSet;
        let namespaces: HashSet<&str> = KEYS.iter().filter_map(|k| k.split('.').next()).collect();
        let key_shaped = |lit: &str| {
            lit.split_once('.')
                // (`chart.rs` and the like are the file names of `SOURCES`.)
                .is_some_and(|(ns, rest)| namespaces.contains(ns) && !rest.is_empty() && rest != "rs")
        };
        let mut missing = Vec::new();
        let mut used = 0;
        for (file, src) in super::super::SOURCES {
            // Every `"…"` whose inside has only key characters.
            for (at, _) in src.match_indices('"') {
                let rest = &src[at + 1..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'))
                    .unwrap_or(rest.len());
                let lit = &rest[..end];
                if rest[end..].starts_with('"') && key_shaped(lit) {
                    used += 1;
                    if !KEYS.contains(&lit) {
                        missing.push(format!("{file}: {lit}"));
                    }
                }
            }
        }
        assert!(used > 100, "only {used} keys found in the sources: is the scan broken?");
        assert!(missing.is_empty(), "keys missing from the table: {missing:?}");
    }

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(Lang::from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"), Some(Lang::Fr));
        assert_eq!(Lang::from_accept_language("de, en;q=0.5, fr;q=0.7"), Some(Lang::Fr));
        assert_eq!(Lang::from_accept_language("en-GB"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("de"), None);
        assert_eq!(Lang::from_accept_language("fr;q=0"), None);
    }

    #[test]
    fn numbers_and_money_per_language() {
        let eur: Currency = "EUR".parse().unwrap();
        let usd: Currency = "USD".parse().unwrap();
        let jpy: Currency = "JPY".parse().unwrap();
        assert_eq!(money_minor(Lang::En, 125_050, eur), "€1,250.50");
        assert_eq!(money_minor(Lang::Fr, 125_050, eur), "1\u{202F}250,50\u{A0}€");
        assert_eq!(money_minor(Lang::En, 125_050, usd), "1,250.50\u{A0}USD");
        assert_eq!(money_minor(Lang::En, 1_234_567, jpy), "1,234,567\u{A0}JPY");
        assert_eq!(money_minor(Lang::Fr, 5, eur), "0,05\u{A0}€");
        assert_eq!(number(Lang::En, 1_000_000), "1,000,000");
        assert_eq!(number(Lang::En, 999), "999");
        assert_eq!(percent(Lang::Fr, 42), "42\u{202F}%");
        assert_eq!(percent(Lang::En, 100), "100%");
        assert_eq!(date_parts(Lang::Fr, 2026, 8, 3), "3\u{A0}août\u{A0}2026");
    }
}
