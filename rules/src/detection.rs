//! Every engine's compiled rules as one value, swapped as one on reload. How the
//! findings of the engines other than signatures are named is in [`crate::ids`].

use std::sync::Arc;

use crate::engine::RuleSet;
use crate::ioc::IocSet;
use crate::sigma::SigmaSet;
use crate::yara::YaraSet;

/// The compiled rules of all engines.
#[derive(Clone)]
pub struct Detection {
    /// The signature rules.
    pub signatures: Arc<RuleSet>,
    /// The YARA rules, when loaded.
    pub yara: Option<Arc<YaraSet>>,
    /// The IOC lists, when loaded.
    pub ioc: Option<Arc<IocSet>>,
    /// Sigma rules; the sensor runs those routed to network events.
    pub sigma: Option<Arc<SigmaSet>>,
    /// Signatures of the rule files that did not load (unsupported or broken), as the
    /// load report counted them; shipped in the sensor's heartbeat.
    pub signatures_skipped: usize,
}

impl From<Arc<RuleSet>> for Detection {
    fn from(signatures: Arc<RuleSet>) -> Self {
        Detection { signatures, yara: None, ioc: None, sigma: None, signatures_skipped: 0 }
    }
}
