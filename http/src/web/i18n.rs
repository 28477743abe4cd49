//! English and French: the translation table ([`Key`], [`t`]), and numbers,
//! money, percents and dates written the way each language writes them.
//!
//! Keys are the variants of [`Key`], generated with their texts from the one
//! table below, where every entry carries both languages: a page cannot name
//! a key that is not in the table, and an entry without its English or its
//! French text does not compile.

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
    ($($key:ident => $en:literal, $fr:literal;)*) => {
        /// A text of the UI: one variant per entry of the table, each with
        /// its English and its French text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Key {
            $($key,)*
        }

        impl Key {
            /// Every key, in table order.
            pub const ALL: &[Key] = &[$(Key::$key),*];

            /// The English and the French text.
            const fn texts(self) -> (&'static str, &'static str) {
                match self {
                    $(Key::$key => ($en, $fr),)*
                }
            }
        }
    };
}

/// The text of `key` in `lang`:
///
/// ```
/// use mutu_http::web::i18n::{Key, Lang, t};
/// assert_eq!(t(Lang::Fr, Key::NavNeeds), "Besoins");
/// ```
///
/// A key that is not in the table does not compile:
///
/// ```compile_fail
/// use mutu_http::web::i18n::{Key, Lang, t};
/// t(Lang::Fr, Key::NavNeedz);
/// ```
pub fn t(lang: Lang, key: Key) -> &'static str {
    let (en, fr) = key.texts();
    match lang {
        Lang::En => en,
        Lang::Fr => fr,
    }
}

table! {
    // Layout
    SiteName => "mutu", "mutu";
    SiteTagline => "Pooled free software, peer to peer", "Le logiciel libre mutualisé, de pair à pair";
    NavHome => "Home", "Accueil";
    NavNeeds => "Needs", "Besoins";
    NavProjects => "Projects", "Projets";
    NavCatalogues => "Catalogues", "Catalogues";
    NavMembers => "Members", "Membres";
    NavNetwork => "Network", "Réseau";
    NavSearch => "Search", "Rechercher";
    NavMain => "Main navigation", "Navigation principale";
    NavLanguage => "Language", "Langue";
    NavSkip => "Skip to content", "Aller au contenu";
    AuthSignedIn => "Signed in", "Connecté";
    AuthSignIn => "Sign in", "Se connecter";
    AuthSignOut => "Sign out", "Se déconnecter";
    // Signing in and the owner's forms (web/forms.rs)
    LoginTitle => "Sign in to write", "Se connecter pour écrire";
    LoginHow => "Only the owner of this node can write from the browser. On the machine that runs the node, run this command; it prints a sign-in link:", "Seul le propriétaire de ce nœud peut écrire depuis le navigateur. Sur la machine où tourne le nœud, lancez cette commande ; elle affiche un lien de connexion :";
    LoginOnce => "Each link works once, for 10 minutes. `mutu run` also prints one when the node starts.", "Chaque lien ne sert qu'une fois, pendant 10 minutes. `mutu run` en affiche aussi un au démarrage du nœud.";
    LoginSignedInText => "You can post needs and projects, pledge, cosign and make offers from the pages.", "Vous pouvez publier des besoins et des projets, promettre, cosigner et faire des offres depuis les pages.";
    LoginInvalid => "This sign-in link does not work", "Ce lien de connexion ne fonctionne pas";
    LoginInvalidText => "It was already used, it expired, or the node restarted. Run `mutu ui` for a new one.", "Il a déjà servi, il a expiré, ou le nœud a redémarré. Lancez `mutu ui` pour en obtenir un nouveau.";
    FormForbidden => "Request refused", "Requête refusée";
    FormForbiddenText => "This form is out of date or was sent from another site. Reload the page and try again.", "Ce formulaire est périmé ou a été envoyé depuis un autre site. Rechargez la page et réessayez.";
    FormRequired => "required", "obligatoire";
    FormPublish => "Publish", "Publier";
    FormSave => "Save", "Enregistrer";
    FormNewNeed => "New need", "Nouveau besoin";
    FormNewProject => "New project", "Nouveau projet";
    FormTitle => "Title", "Titre";
    FormName => "Name", "Nom";
    FormDescription => "Description", "Description";
    FormTags => "Tags", "Étiquettes";
    FormTagsHint => "Comma-separated, e.g. accounting, invoices", "Séparées par des virgules, par ex. comptabilité, factures";
    FormProject => "Project", "Projet";
    FormIdHint => "Its id, or the first characters of it", "Son identifiant, ou ses premiers caractères";
    FormGoal => "Money goal", "Objectif financier";
    FormMoneyHint => "An amount and a currency, e.g. 600 EUR or 1250.50 EUR", "Un montant et une devise, par ex. 600 EUR ou 1250.50 EUR";
    FormDaysGoal => "Developer-days goal", "Objectif en jours de développement";
    FormDeadline => "Deadline", "Échéance";
    FormLicense => "License", "Licence";
    FormLicenseHint => "An SPDX expression, e.g. AGPL-3.0-or-later", "Une expression SPDX, par ex. AGPL-3.0-or-later";
    FormRepository => "Repository URL", "URL du dépôt";
    FormHomepage => "Home page URL", "URL du site";
    FormDevStatus => "Development status", "État du développement";
    FormDevConcept => "Concept", "Concept";
    FormDevDevelopment => "In development", "En développement";
    FormDevBeta => "Beta", "Bêta";
    FormDevStable => "Stable", "Stable";
    FormDevObsolete => "Obsolete", "Obsolète";
    FormIsBasedOn => "Fork or variant of", "Fork ou variante de";
    FormForNeed => "Need:", "Besoin :";
    FormPledge => "Pledge", "Promettre";
    FormPledgeOne => "Give exactly one of money, developer-days, hosting, testing or something else.", "Indiquez une seule chose : argent, jours de développement, hébergement, tests ou autre.";
    FormPledgeSubmit => "Pledge", "Promettre";
    FormMoney => "Money", "Argent";
    FormDays => "Developer-days", "Jours de développement";
    FormHosting => "Hosting", "Hébergement";
    FormTesting => "Testing", "Tests";
    FormOther => "Something else", "Autre chose";
    FormIfFunded => "Only if the goal is reached", "Seulement si l'objectif est atteint";
    FormIfFundedHint => "All or nothing: the pledge holds only if the need is fully funded.", "Tout ou rien : la promesse ne vaut que si le besoin est entièrement financé.";
    FormExpiresAt => "Expires on", "Expire le";
    FormCosign => "Cosign", "Cosigner";
    FormCosignSubmit => "We need this too", "Nous en avons besoin aussi";
    SimilarTitle => "Open needs that look like this one", "Besoins ouverts qui ressemblent à celui-ci";
    SimilarHint => "Cosigning one keeps the coalition and its pledges together. Publish yours only if it is another need.", "Cosigner l'un d'eux garde la coalition et ses promesses ensemble. Ne publiez le vôtre que s'il s'agit d'un autre besoin.";
    SimilarPublishAnyway => "Publish anyway", "Publier quand même";
    SimilarOnPage => "Needs that look like this one", "Besoins qui ressemblent à celui-ci";
    NetworkPolicySaved => "A change applies at once and is written to config.toml; options given to `mutu run` still win at the next start.", "Un changement s'applique aussitôt et s'écrit dans config.toml ; les options données à `mutu run` l'emportent au prochain démarrage.";
    NeedCouldJoin => "Who else could join", "Qui d'autre pourrait se joindre";
    NeedCouldJoinHint => "Members who declared they use this project and are not in the coalition yet.", "Membres qui déclarent utiliser ce projet et ne sont pas encore dans la coalition.";
    SimilarSameProject => "same project", "même projet";
    SimilarSharedTags => "shared tags:", "étiquettes communes :";
    SimilarWords => "matching words:", "mots communs :";
    FormNote => "Note", "Note";
    FormOffer => "Make an offer", "Faire une offre";
    FormOfferSubmit => "Send the offer", "Envoyer l'offre";
    FormPrice => "Price", "Prix";
    FormValidUntil => "Valid until", "Valable jusqu'au";
    FormStatus => "Change the status", "Changer l'état";
    FormNeedStatus => "Status", "État";
    FormNeedOpen => "Open", "Ouvert";
    FormNeedInProgress => "In progress", "En cours";
    FormNeedDelivered => "Delivered", "Livré";
    FormNeedWithdrawn => "Withdrawn", "Retiré";
    FormWithdraw => "Withdraw a pledge", "Retirer une promesse";
    FormWithdrawText => "Withdraw your pledge on", "Retirer votre promesse pour";
    FormWithdrawSubmit => "Withdraw", "Retirer";
    FormRetract => "Retract", "Rétracter";
    FormRetractText => "Retract your", "Rétracter votre enregistrement";
    FormRetractWarning => "A retraction is for good: it cannot be undone.", "Une rétractation est définitive : elle ne peut pas être annulée.";
    FormRetractSubmit => "Retract for good", "Rétracter définitivement";
    NeedNew => "New need", "Nouveau besoin";
    FooterText => "Every member signs their own statements; this node shows what it has received.", "Chaque membre signe ses propres déclarations ; ce nœud affiche ce qu'il a reçu.";
    FooterApi => "JSON API", "API JSON";
    SearchPlaceholder => "Search projects, needs, members…", "Rechercher projets, besoins, membres…";
    SearchLabel => "Search the registry", "Rechercher dans le registre";
    // Common
    CommonNone => "none", "aucun";
    CommonUnknown => "unknown", "inconnu";
    CommonBy => "by", "par";
    CommonPublished => "published", "publié le";
    CommonRecordId => "Record id:", "Identifiant :";
    // Record kinds
    KindProfile => "Member", "Membre";
    KindProject => "Project", "Projet";
    KindUsage => "Usage", "Utilisation";
    KindNeed => "Need", "Besoin";
    KindCosign => "Co-signature", "Cosignature";
    KindPledge => "Pledge", "Promesse";
    KindOffer => "Offer", "Offre";
    KindCatalogue => "Catalogue", "Catalogue";
    KindCatalogueEntry => "Catalogue entry", "Entrée de catalogue";
    KindVouch => "Vouch", "Recommandation";
    KindFollow => "Follow", "Abonnement";
    KindModeration => "Moderation list", "Liste de modération";
    KindTombstone => "Retraction", "Retrait";
    // Statuses
    NeedStatusOpen => "Open", "Ouvert";
    NeedStatusInProgress => "In progress", "En cours";
    NeedStatusDelivered => "Delivered", "Livré";
    NeedStatusWithdrawn => "Withdrawn", "Retiré";
    NeedStatusMerged => "Merged", "Fusionné";
    InboxTitle => "Inbox", "Boîte de réception";
    FormRefused => "Not done", "Non effectué";
    FormBack => "Back to the need", "Retour au besoin";
    FormObject => "Object to a delivery", "Contester une livraison";
    FormObjectReason => "Why (required)", "Pourquoi (obligatoire)";
    FormObjectSubmit => "Object", "Contester";
    FormDelivery => "Declare a delivery", "Déclarer une livraison";
    FormDeliveryRelease => "Release, tag or commit (URL)", "Version, étiquette ou commit (URL)";
    FormDeliverySubmit => "Declare delivered", "Déclarer livré";
    FormDecision => "How the coalition decides", "Comment la coalition décide";
    ConsultApprove => "Approve", "Approuver";
    ConsultAwardIt => "Award", "Attribuer";
    ConsultAccept => "Accept", "Accepter";
    ConsultObjectIt => "Object", "Contester";
    ConsultMarkPaid => "Mark my pledge paid", "Marquer ma promesse payée";
    ConsultConfirmReceipt => "Confirm receipt", "Confirmer la réception";
    ConsultYourPayments => "Payments", "Paiements";
    InboxUnread => "unread", "non lus";
    InboxLead => "What happened to what you follow: the needs you wrote, cosigned or pledged to, and what you watch.", "Ce qui arrive à ce que vous suivez : les besoins que vous avez écrits, cosignés ou soutenus, et ce que vous surveillez.";
    InboxEmpty => "Nothing yet.", "Rien pour l'instant.";
    InboxMarkRead => "Mark all read", "Tout marquer comme lu";
    WatchStart => "Watch", "Suivre";
    WatchStop => "Stop watching", "Ne plus suivre";
    NeedMergedInto => "This need was merged into", "Ce besoin a été fusionné dans";
    NeedMergedMove => "Its pledges stay here until each pledger moves them. Move yours:", "Ses promesses restent ici jusqu'à ce que chacun déplace la sienne. Déplacer la vôtre :";
    NeedMergedFrom => "Needs merged into this one", "Besoins fusionnés dans celui-ci";
    NeedActions => "Act on this need", "Agir sur ce besoin";
    NeedMergeMine => "Merge mine into this one", "Fusionner le mien dans celui-ci";
    FormMerge => "Merge a need into another", "Fusionner un besoin dans un autre";
    FormMergeText => "Mark as the same need as another:", "Marquer comme le même besoin qu'un autre :";
    FormMergeInto => "The need it is the same as (id)", "Le besoin identique (identifiant)";
    FormMergeHint => "It leaves the open lists and points there; its cosigners and pledgers are told, and each pledger moves their own pledge.", "Il quitte les listes ouvertes et renvoie là-bas ; ses cosignataires et contributeurs sont prévenus, et chacun déplace sa propre promesse.";
    FormMergeSubmit => "Merge", "Fusionner";
    FormMove => "Move a pledge", "Déplacer une promesse";
    FormMoveText => "Move your pledge on", "Déplacer votre promesse pour";
    FormMoveTo => "To the need (id)", "Vers le besoin (identifiant)";
    FormMoveHint => "One signed change: the new pledge and the old one withdrawn, so totals never count both.", "Un seul changement signé : la nouvelle promesse et l'ancienne retirée, les totaux ne comptent jamais les deux.";
    FormMoveSubmit => "Move my pledge", "Déplacer ma promesse";
    FundingOpen => "Collecting", "En collecte";
    FundingFunded => "Funded", "Financé";
    FundingExpired => "Expired", "Expiré";
    FundingProgress => "Funded:", "Financé :";
    FundingNoGoal => "No goal set", "Pas d'objectif";
    EffectActive => "Active", "Active";
    EffectConditional => "Conditional", "Conditionnelle";
    EffectCommitted => "Committed", "Engagée";
    EffectReleased => "Released", "Libérée";
    EffectExpired => "Expired", "Expirée";
    EffectWithdrawn => "Withdrawn", "Retirée";
    EffectFulfilled => "Fulfilled", "Honorée";
    EntryRecommended => "Recommended", "Recommandé";
    EntryObservation => "Under observation", "En observation";
    EntryDeprecated => "Deprecated", "Déconseillé";
    DevConcept => "Concept", "Concept";
    DevDevelopment => "In development", "En développement";
    DevBeta => "Beta", "Bêta";
    DevStable => "Stable", "Stable";
    DevObsolete => "Obsolete", "Obsolète";
    MemberKindSme => "Small business", "PME";
    MemberKindAssociation => "Association", "Association";
    MemberKindPublicBody => "Public body", "Collectivité ou administration";
    MemberKindProvider => "Service provider", "Prestataire";
    MemberKindIndividual => "Individual", "Particulier";
    MemberKindResearch => "Research", "Recherche";
    ResourceMoney => "Money", "Argent";
    ResourceDevDays => "Developer-days", "Jours de développement";
    ResourceHosting => "Hosting", "Hébergement";
    ResourceTesting => "Testing", "Tests";
    ResourceOther => "Other", "Autre";
    UnitDevDay => "developer-day", "jour de développement";
    UnitDevDays => "developer-days", "jours de développement";
    // Filters
    FilterTag => "Tag", "Étiquette";
    FilterStatus => "Status", "Statut";
    FilterFunding => "Funding", "Financement";
    FilterSort => "Sort by", "Trier par";
    FilterAny => "Any", "Tous";
    FilterApply => "Apply", "Appliquer";
    FilterReset => "Reset", "Réinitialiser";
    SortNewest => "Newest", "Plus récents";
    SortPercent => "Most funded", "Les mieux financés";
    SortDeadline => "Deadline", "Échéance";
    // Home
    HomeTitle => "Free software, pooled", "Le logiciel libre, mutualisé";
    HomeLead => "Organisations say which free software they use, what they need, and what they pledge toward it. Every statement is signed by its author and shared peer to peer: nobody holds the money, nobody owns the registry.", "Les organisations déclarent les logiciels libres qu'elles utilisent, ce dont elles ont besoin et ce qu'elles promettent pour y parvenir. Chaque déclaration est signée par son auteur et partagée de pair à pair : personne ne détient l'argent, personne ne possède le registre.";
    HomeFigures => "Key figures", "Chiffres clés";
    HomeMembers => "members", "membres";
    HomeProjects => "projects", "projets";
    HomeOpenNeeds => "open needs", "besoins ouverts";
    HomeFundedNeeds => "funded needs", "besoins financés";
    HomeCatalogues => "catalogues", "catalogues";
    HomePledged => "Pledged so far", "Promis à ce jour";
    HomePledgedHelp => "Active pledges on all needs, per currency. No money is collected by mutu.", "Promesses actives sur tous les besoins, par devise. mutu ne collecte aucun argent.";
    HomeNothingPledged => "Nothing pledged yet.", "Aucune promesse pour l'instant.";
    HomeRecent => "Recent activity", "Activité récente";
    HomeNoActivity => "Nothing published yet.", "Rien n'a encore été publié.";
    // Needs
    NeedsTitle => "Needs", "Besoins";
    NeedsLead => "What members need developed, fixed or hosted, and how far the pooled pledges go.", "Ce que les membres ont besoin de faire développer, corriger ou héberger, et où en sont les promesses mises en commun.";
    NeedsCount => "needs", "besoins";
    NeedsNone => "No need matches.", "Aucun besoin ne correspond.";
    PageNext => "Next page", "Page suivante";
    PagePrevious => "Previous page", "Page précédente";
    NeedGoal => "Goal", "Objectif";
    NeedPledged => "Pledged", "Promis";
    NeedDeadline => "Deadline", "Échéance";
    NeedProject => "Project", "Projet";
    NeedBy => "Posted by", "Publié par";
    NeedCosignersShort => "co-signers", "cosignataires";
    NeedCosignerShort => "co-signer", "cosignataire";
    NeedDescription => "Description", "Description";
    NeedFunding => "Funding", "Financement";
    NeedState => "State", "État";
    NeedFundingHelp => "An assurance contract: conditional pledges commit only once the goal is reached, and are released if the deadline passes first.", "Un contrat d'assurance : les promesses conditionnelles ne sont engagées qu'une fois l'objectif atteint, et sont libérées si l'échéance passe avant.";
    NeedChart => "Pledges over time", "Promesses dans le temps";
    NeedChartHelp => "Money pledged in the goal currency, cumulated by pledge date; the dashed line is the goal.", "Montants promis dans la devise de l'objectif, cumulés par date de promesse ; la ligne pointillée est l'objectif.";
    NeedCosigners => "Co-signers", "Cosignataires";
    ConsultTitle => "Choosing and accepting the work", "Choix et réception des travaux";
    ConsultDecision => "Decision rule", "Règle de décision";
    ConsultCoalition => "Coalition", "Groupement";
    ConsultTimeline => "Timeline", "Chronologie";
    ConsultAward => "Award", "Attribution";
    ConsultValid => "valid", "valide";
    ConsultContested => "contested, missing:", "contestée, il manque :";
    ConsultApprovals => "Approvals", "Approbations";
    ConsultDelivery => "Delivery of", "Livraison du";
    ConsultObjections => "Objections", "Oppositions";
    DecisionAuthor => "the need's author", "l'auteur du besoin";
    DecisionMajority => "majority of the coalition", "majorité du groupement";
    DecisionWeighted => "weighted by the money pledged", "pondérée par les montants promis";
    StageOpen => "open", "ouvert";
    StageFunded => "funded", "financé";
    StageAwarded => "awarded", "attribué";
    StageDelivered => "delivered", "livré";
    StageAccepted => "accepted", "accepté";
    StagePaid => "paid", "payé";
    TrackTitle => "Track record", "Références";
    TrackProvider => "As provider", "Comme prestataire";
    TrackPledger => "As pledger", "Comme contributeur";
    TrackOffers => "offers", "offres";
    TrackAwarded => "awarded", "retenues";
    TrackDelivered => "delivered", "livrées";
    TrackOnTime => "on time", "dans les délais";
    TrackLate => "late", "en retard";
    TrackAccepted => "accepted", "acceptées";
    TrackObjected => "objected to", "contestées";
    TrackReceived => "Received", "Reçu";
    TrackPledges => "pledges", "promesses";
    TrackDue => "due", "dues";
    TrackPaid => "paid", "payées";
    NeedCosignersHelp => "Members who need this too.", "Membres qui en ont besoin aussi.";
    NeedNoCosigners => "No co-signer yet.", "Aucun cosignataire pour l'instant.";
    NeedPledges => "Pledges", "Promesses";
    NeedNoPledges => "No pledge yet.", "Aucune promesse pour l'instant.";
    NeedOffers => "Offers from providers", "Offres des prestataires";
    NeedNoOffers => "No offer yet.", "Aucune offre pour l'instant.";
    PledgeMember => "Member", "Membre";
    PledgeWhat => "Pledge", "Promesse";
    PledgeCondition => "Condition", "Condition";
    PledgeEffect => "Effect now", "Effet actuel";
    PledgeDate => "Date", "Date";
    PledgeIfGoal => "If the goal is reached", "Si l'objectif est atteint";
    PledgeUnconditional => "Unconditional", "Sans condition";
    PledgeExpires => "expires", "expire le";
    OfferPrice => "Price", "Prix";
    OfferDays => "Work", "Charge";
    OfferValidUntil => "Valid until", "Valable jusqu'au";
    ChartPledged => "Pledged", "Promis";
    ChartGoal => "Goal", "Objectif";
    // Projects
    ProjectsTitle => "Projects", "Projets";
    ProjectsLead => "Free software declared by members, with who uses it and what it needs.", "Les logiciels libres déclarés par les membres, avec qui les utilise et ce dont ils ont besoin.";
    ProjectsCount => "projects", "projets";
    ProjectsNone => "No project matches.", "Aucun projet ne correspond.";
    ProjectUsersCount => "users", "utilisateurs";
    ProjectNeedsCount => "needs", "besoins";
    ProjectDeclaredBy => "Declared by", "Déclaré par";
    ProjectAbout => "About", "Présentation";
    ProjectLicense => "License", "Licence";
    ProjectStatus => "Status", "Statut";
    ProjectRepository => "Repository", "Dépôt";
    ProjectHomepage => "Website", "Site web";
    ProjectBasedOn => "Based on", "Basé sur";
    ProjectFork => "Fork or variant:", "Dérivé ou variante :";
    ProjectUsers => "Used by", "Utilisé par";
    ProjectUsersHelp => "Members who signed that they use it.", "Membres qui ont signé qu'ils l'utilisent.";
    ProjectCatalogues => "In catalogues", "Dans les catalogues";
    ProjectNoCatalogues => "Not listed in any catalogue yet.", "Encore dans aucun catalogue.";
    ProjectNeeds => "Needs", "Besoins";
    ProjectNoNeeds => "No need about this project.", "Aucun besoin pour ce projet.";
    ProjectForks => "Forks and origins", "Dérivés et origine";
    ProjectNoForks => "No known fork.", "Aucun dérivé connu.";
    ProjectProviders => "Providers", "Prestataires";
    ProjectProvidersHelp => "Members who made offers on its needs.", "Membres ayant fait des offres sur ses besoins.";
    ProjectPubliccode => "From its publiccode.yml", "D'après son publiccode.yml";
    ProjectPubliccodeDownload => "Download the publiccode.yml", "Télécharger le publiccode.yml";
    ProjectFeatures => "Features", "Fonctionnalités";
    ProjectPlatforms => "Platforms", "Plateformes";
    ProjectSoftwareType => "Kind of software", "Type de logiciel";
    ProjectMaintenance => "Maintained by", "Maintenu par";
    ProjectMaintenanceType => "How it is maintained", "Mode de maintenance";
    ProjectContractors => "Contractors", "Prestataires sous contrat";
    ProjectContacts => "Maintainers", "Mainteneurs";
    ProjectUntil => "until", "jusqu'au";
    ProjectRelease => "Latest release", "Dernière version";
    ProjectLanguages => "Described in", "Décrit en";
    ProjectDocumentation => "Documentation", "Documentation";
    ProjectDeclaredUsers => "Declared users", "Utilisateurs déclarés";
    ProjectDeclaredUsersHelp => "Named in the project's publiccode.yml (usedBy): declared by the project, unverified. These organisations have signed nothing here.", "Cités dans le publiccode.yml du projet (usedBy) : déclarés par le projet, non vérifiés. Ces organisations n'ont rien signé ici.";
    ProjectsImport => "Import publiccode.yml files", "Importer des fichiers publiccode.yml";
    ImportTitle => "Import publiccode.yml files", "Importer des fichiers publiccode.yml";
    ImportLead => "Each file is checked as the standard's reference validator does. Valid files create your projects, or update the one with the same url; a file with errors is listed with them, and the others are imported.", "Chaque fichier est vérifié comme le fait le validateur de référence du standard. Les fichiers valides créent vos projets, ou mettent à jour celui qui a la même url ; un fichier en erreur est listé avec ses erreurs, et les autres sont importés.";
    ImportFiles => "publiccode.yml files", "Fichiers publiccode.yml";
    ImportSubmit => "Import", "Importer";
    ImportResult => "Import result", "Résultat de l'import";
    ImportCreated => "created", "créé";
    ImportUpdated => "updated", "mis à jour";
    ImportUnchanged => "unchanged", "inchangé";
    ImportRefused => "Not imported", "Non importés";
    ImportNoFile => "Choose at least one publiccode.yml file.", "Choisissez au moins un fichier publiccode.yml.";
    ImportAgain => "Import more files", "Importer d'autres fichiers";
    // Catalogues
    CataloguesTitle => "Catalogues", "Catalogues";
    CataloguesLead => "Curated lists of projects. A catalogue can include others: entries show where they come from.", "Des listes de projets choisies. Un catalogue peut en inclure d'autres : chaque entrée indique sa provenance.";
    CataloguesNone => "No catalogue yet.", "Aucun catalogue pour l'instant.";
    CatalogueEntriesCount => "entries", "entrées";
    CatalogueIncludesCount => "included catalogues", "catalogues inclus";
    CatalogueOwner => "Curated by", "Organisé par";
    CatalogueEditors => "Editors", "Éditeurs";
    CatalogueIncludes => "Includes", "Inclut";
    CatalogueFederationHelp => "Entries of included catalogues are shown too, the nearest catalogue's winning.", "Les entrées des catalogues inclus apparaissent aussi ; celle du catalogue le plus proche l'emporte.";
    CatalogueEntries => "Entries", "Entrées";
    CatalogueNoEntries => "No entry yet.", "Aucune entrée pour l'instant.";
    CatalogueProject => "Project", "Projet";
    CatalogueStatus => "Status", "Statut";
    CatalogueNote => "Note", "Remarque";
    CatalogueBy => "Listed by", "Ajouté par";
    CatalogueVia => "From", "Provenance";
    CatalogueOwn => "this catalogue", "ce catalogue";
    // Members
    MembersTitle => "Members", "Membres";
    MembersLead => "Organisations and people who publish on mutu, each under their own key.", "Les organisations et personnes qui publient sur mutu, chacune avec sa propre clé.";
    MembersNone => "No member matches.", "Aucun membre ne correspond.";
    MemberRecordsCount => "statements", "déclarations";
    MemberVouchesCount => "vouches", "recommandations";
    MemberNoProfile => "This member has not published a profile.", "Ce membre n'a pas publié de profil.";
    MemberId => "Member id", "Identifiant";
    MemberWebsite => "Website", "Site web";
    MemberVouchedBy => "Vouched for by", "Recommandé par";
    MemberEquivocated => "This member published two conflicting histories on", "Ce membre a publié deux historiques contradictoires le";
    MemberEquivocatedHelp => "Both versions are signed by the member and kept as evidence; this node shows the one it received first (`mutu show MEMBER --json` prints the proof).", "Les deux versions sont signées par le membre et conservées comme preuve ; ce nœud montre celle reçue en premier (`mutu show MEMBRE --json` affiche la preuve).";
    MemberVouchHelp => "A vouch says another member knows this one.", "Une recommandation signifie qu'un autre membre connaît celui-ci.";
    MemberStatements => "Statements", "Déclarations";
    MemberNeeds => "Needs", "Besoins";
    MemberPledges => "Pledges", "Promesses";
    MemberCosigns => "Co-signed needs", "Besoins cosignés";
    MemberProjects => "Projects declared", "Projets déclarés";
    MemberUsages => "Uses", "Utilise";
    MemberCatalogues => "Catalogues", "Catalogues";
    MemberOffers => "Offers", "Offres";
    MemberVouchesGiven => "Vouches for", "Recommande";
    // Network
    NetworkTitle => "Network", "Réseau";
    NetworkLead => "This node and the peers it is connected to right now.", "Ce nœud et les pairs auxquels il est connecté en ce moment.";
    NetworkMember => "Node owner", "Propriétaire du nœud";
    NetworkPeerId => "Peer id", "Identifiant de pair";
    NetworkListen => "Listening on", "À l'écoute sur";
    NetworkReachability => "Reachable from the internet", "Joignable depuis Internet";
    NetworkPublic => "yes (public address)", "oui (adresse publique)";
    NetworkPrivate => "no (behind NAT): through relays", "non (derrière un NAT) : par des relais";
    NetworkUnknown => "not known yet", "pas encore connu";
    NetworkExternal => "External addresses", "Adresses externes";
    NetworkRelays => "Relays in use", "Relais utilisés";
    NetworkInvitation => "Invitation to join", "Invitation à rejoindre";
    NetworkInvitationHelp => "Give this text to another member: they run `mutu join` with it and their node connects to this one, even behind a home router.", "Donnez ce texte à un autre membre : avec `mutu join`, son nœud se connecte à celui-ci, même derrière une box.";
    NetworkConnection => "Connection", "Connexion";
    NetworkDirect => "direct", "directe";
    NetworkRelayed => "through a relay", "par un relais";
    NetworkCounters => "Counters", "Compteurs";
    NetworkPeers => "peers", "pairs";
    NetworkDocuments => "documents", "documents";
    NetworkRecords => "records", "enregistrements";
    NetworkPending => "pending changes", "modifications en attente";
    NetworkRejected => "rejected changes", "modifications rejetées";
    NetworkSyncPasses => "sync passes", "synchronisations";
    NetworkSyncRequests => "sync requests", "requêtes de synchronisation";
    NetworkBytesSent => "bytes sent", "octets envoyés";
    NetworkBytesReceived => "bytes received", "octets reçus";
    NetworkCatchUp => "Catching up", "Rattrapage en cours";
    NetworkDocumentsFetched => "documents fetched, of those announced", "documents reçus, sur ceux annoncés";
    NetworkRecordsFetched => "records fetched", "enregistrements reçus";
    NetworkRecordsPerSecond => "records per second", "enregistrements par seconde";
    NetworkSecondsLeft => "seconds left (estimate)", "secondes restantes (estimation)";
    NetworkReplication => "Replication", "Réplication";
    NetworkScope => "Scope", "Portée";
    NetworkScopeOpen => "open: every member, those outside the trust set under quotas", "ouverte : tous les membres, ceux hors du cercle de confiance sous quotas";
    NetworkScopeTrusted => "trusted: only the trust set", "restreinte : seulement le cercle de confiance";
    NetworkHops => "Vouch steps", "Étapes de recommandation";
    NetworkTrusted => "members in the trust set", "membres du cercle de confiance";
    NetworkStrangerBytes => "bytes held for other members", "octets gardés pour les autres membres";
    NetworkIgnoredUntrusted => "changes ignored: outside the trust set", "modifications ignorées : hors du cercle de confiance";
    NetworkIgnoredQuota => "changes ignored: over a quota", "modifications ignorées : quota dépassé";
    NetworkGossipLimited => "gossip messages ignored: a peer over its budget", "messages de diffusion ignorés : pair au-delà de son budget";
    NetworkAsSeen => "Every view on this node is as seen by this node: nodes with other policies hold other members.", "Chaque vue de ce nœud est celle de ce nœud : des nœuds aux politiques différentes gardent d'autres membres.";
    NetworkInbox => "From members you do not follow yet", "De membres que vous ne suivez pas encore";
    NetworkInboxHelp => "Their statements answer needs or projects of your trust set: this node keeps them under a small quota of their own.", "Leurs déclarations répondent à des besoins ou projets de votre cercle de confiance : ce nœud les garde sous un petit quota à part.";
    NetworkPeerList => "Connected peers", "Pairs connectés";
    NetworkNoPeers => "No peer connected.", "Aucun pair connecté.";
    NetworkAddress => "Address", "Adresse";
    NetworkSince => "Connected since", "Connecté depuis";
    // Search
    SearchTitle => "Search", "Recherche";
    SearchWords => "Words", "Mots";
    SearchResults => "results", "résultats";
    SearchNone => "Nothing found.", "Aucun résultat.";
    SearchHelp => "Search needs, projects, catalogues, offers and member profiles.", "Recherchez parmi les besoins, projets, catalogues, offres et profils de membres.";
    // Errors
    ErrorNotFound => "Not found", "Introuvable";
    ErrorNotFoundText => "Nothing here matches this address.", "Rien ne correspond à cette adresse.";
    ErrorAmbiguous => "This short id matches several records; use a longer one.", "Cet identifiant court correspond à plusieurs enregistrements ; utilisez-en un plus long.";
    ErrorInternal => "Something went wrong", "Une erreur est survenue";
    ErrorInternalText => "The node could not answer this request.", "Le nœud n'a pas pu répondre à cette requête.";
    ErrorBackHome => "Back to the home page", "Retour à l'accueil";
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

    /// The keys whose French is the English word: names, and words both
    /// languages write alike.
    const SAME_IN_BOTH: &[Key] = &[
        Key::SiteName,
        Key::NavCatalogues,
        Key::FormDescription,
        Key::FormDevConcept,
        Key::FormDevStable,
        Key::FormNote,
        Key::KindCatalogue,
        Key::EffectActive,
        Key::DevConcept,
        Key::DevStable,
        Key::MemberKindAssociation,
        Key::HomeCatalogues,
        Key::NeedDescription,
        Key::PledgeCondition,
        Key::PledgeDate,
        Key::CataloguesTitle,
        Key::MemberCatalogues,
        Key::NetworkDocuments,
        Key::ProjectDocumentation,
    ];

    #[test]
    fn every_key_has_an_english_and_a_different_french_text() {
        for &key in Key::ALL {
            let (en, fr) = (t(Lang::En, key), t(Lang::Fr, key));
            assert!(!en.trim().is_empty(), "{key:?} is empty in English");
            assert!(!fr.trim().is_empty(), "{key:?} is empty in French");
            // A French text equal to the English one is most often a
            // translation forgotten; the exceptions are listed.
            assert_eq!(
                en == fr,
                SAME_IN_BOTH.contains(&key),
                "{key:?}: {en:?} / {fr:?} (same in both languages only if listed in SAME_IN_BOTH)"
            );
        }
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
