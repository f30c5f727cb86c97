"""The enterprise nameko service (一企一网): a thin adapter around the service layer.

Three editions share it through the gateway: enterprise (register, file demands, rate,
policies, financing, jobs), government (verify, assign, answer, key-project approvals)
and institution (products, responses, capabilities). ``clock`` is injectable: tests and
simulations replace it with a ``FakeClock``.
"""

from __future__ import annotations

from typing import Any

from nameko.timer import timer

from services.enterprise.service_layer import (
    accounts,
    demands,
    financing,
    policies,
    projects,
    sweeps,
    talent,
    techsupport,
)
from yiwang.clock import Clock, SystemClock
from yiwang.contracts import enterprise as c
from yiwang.contracts.health import HealthResponse
from yiwang.logging import get_logger
from yiwang.nameko.health import db_health
from yiwang.nameko.providers import Tracing, UnitOfWorkProvider
from yiwang.nameko.rpc import contract_rpc

log = get_logger(__name__)
SWEEP_INTERVAL_S = 60


class EnterpriseService:
    name = "enterprise"

    uow = UnitOfWorkProvider("enterprise")
    tracing = Tracing()
    clock: Clock = SystemClock()

    # --- health --------------------------------------------------------------------------
    @contract_rpc("enterprise")
    def health(self, request: Any) -> HealthResponse:
        return db_health(self.name, self.uow())

    # --- sweeps --------------------------------------------------------------------------
    @timer(interval=SWEEP_INTERVAL_S)
    def sweep(self) -> None:
        result = sweeps.run_sweeps(self.uow, self.clock.now())
        if result["demands_overdue"] or result["steps_warned"] or result["steps_late"]:
            log.info("enterprise_sweep", **{k: v for k, v in result.items() if k != "at"})

    @contract_rpc("enterprise")
    def run_sweeps(self, request: c.RunSweepsRequest) -> Any:
        return sweeps.run_sweeps(self.uow, self.clock.now())

    # --- accounts ------------------------------------------------------------------------
    @contract_rpc("enterprise")
    def register_enterprise(self, request: c.RegisterEnterpriseRequest) -> Any:
        return accounts.register_enterprise(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def register_institution(self, request: c.RegisterInstitutionRequest) -> Any:
        return accounts.register_institution(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def review_enterprise(self, request: c.ReviewEnterpriseRequest) -> Any:
        return accounts.review_enterprise(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def review_institution(self, request: c.ReviewInstitutionRequest) -> Any:
        return accounts.review_institution(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def add_enterprise_user(self, request: c.AddEnterpriseUserRequest) -> Any:
        return accounts.add_enterprise_user(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def get_enterprise(self, request: c.GetEnterpriseRequest) -> Any:
        return accounts.get_enterprise(self.uow(), request.enterprise_id)

    @contract_rpc("enterprise")
    def list_enterprises(self, request: c.ListEnterprisesRequest) -> Any:
        return accounts.list_enterprises(self.uow(), request)

    @contract_rpc("enterprise")
    def get_institution(self, request: c.GetInstitutionRequest) -> Any:
        return accounts.get_institution(self.uow(), request.institution_id)

    @contract_rpc("enterprise")
    def list_institutions(self, request: c.ListInstitutionsRequest) -> Any:
        return accounts.list_institutions(self.uow(), request)

    @contract_rpc("enterprise")
    def accounts_of_user(self, request: c.AccountsOfUserRequest) -> Any:
        return accounts.accounts_of_user(self.uow(), request)

    # --- demands -------------------------------------------------------------------------
    @contract_rpc("enterprise")
    def set_responsibility(self, request: c.SetResponsibilityRequest) -> Any:
        return demands.set_responsibility(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def list_responsibilities(self, request: c.ListResponsibilitiesRequest) -> Any:
        return demands.list_responsibilities(self.uow(), request)

    @contract_rpc("enterprise")
    def file_demand(self, request: c.FileDemandRequest) -> Any:
        return demands.file_demand(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def assign_demand(self, request: c.AssignDemandRequest) -> Any:
        return demands.assign_demand(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def reply_demand(self, request: c.ReplyDemandRequest) -> Any:
        return demands.reply_demand(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def answer_demand(self, request: c.AnswerDemandRequest) -> Any:
        return demands.answer_demand(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def add_demand_note(self, request: c.AddDemandNoteRequest) -> Any:
        return demands.add_demand_note(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def rate_demand(self, request: c.RateDemandRequest) -> Any:
        return demands.rate_demand(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def get_demand(self, request: c.GetDemandRequest) -> Any:
        return demands.get_demand(self.uow(), request.demand_id, self.clock.now())

    @contract_rpc("enterprise")
    def list_demands(self, request: c.ListDemandsRequest) -> Any:
        return demands.list_demands(self.uow(), request, self.clock.now())

    # --- financing -----------------------------------------------------------------------
    @contract_rpc("enterprise")
    def publish_product(self, request: c.PublishProductRequest) -> Any:
        return financing.publish_product(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def withdraw_product(self, request: c.WithdrawProductRequest) -> Any:
        return financing.withdraw_product(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def list_products(self, request: c.ListProductsRequest) -> Any:
        return financing.list_products(self.uow(), request)

    @contract_rpc("enterprise")
    def post_financing_need(self, request: c.PostFinancingNeedRequest) -> Any:
        return financing.post_need(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def match_financing(self, request: c.MatchFinancingRequest) -> Any:
        return financing.match_financing(self.uow(), request)

    @contract_rpc("enterprise")
    def list_financing_needs(self, request: c.ListFinancingNeedsRequest) -> Any:
        return financing.list_needs(self.uow(), request)

    @contract_rpc("enterprise")
    def respond_financing(self, request: c.RespondFinancingRequest) -> Any:
        return financing.respond(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def record_financing_outcome(self, request: c.RecordFinancingOutcomeRequest) -> Any:
        return financing.record_outcome(self.uow(), request, self.clock.now())

    # --- talent --------------------------------------------------------------------------
    @contract_rpc("enterprise")
    def post_job(self, request: c.PostJobRequest) -> Any:
        return talent.post_job(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def list_jobs(self, request: c.ListJobsRequest) -> Any:
        return talent.list_jobs(self.uow(), request)

    @contract_rpc("enterprise")
    def apply_job(self, request: c.ApplyJobRequest) -> Any:
        return talent.apply_job(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def decide_application(self, request: c.DecideApplicationRequest) -> Any:
        return talent.decide(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def hire_counts(self, request: c.HireCountsRequest) -> Any:
        return talent.hire_counts(self.uow(), request)

    # --- technical support ---------------------------------------------------------------
    @contract_rpc("enterprise")
    def publish_capability(self, request: c.PublishCapabilityRequest) -> Any:
        return techsupport.publish_capability(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def list_capabilities(self, request: c.ListCapabilitiesRequest) -> Any:
        return techsupport.list_capabilities(self.uow(), request)

    @contract_rpc("enterprise")
    def post_tech_need(self, request: c.PostTechNeedRequest) -> Any:
        return techsupport.post_need(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def list_tech_needs(self, request: c.ListTechNeedsRequest) -> Any:
        return techsupport.list_needs(self.uow(), request)

    @contract_rpc("enterprise")
    def engage_tech_need(self, request: c.EngageTechNeedRequest) -> Any:
        return techsupport.engage(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def resolve_tech_need(self, request: c.ResolveTechNeedRequest) -> Any:
        return techsupport.resolve(self.uow(), request, self.clock.now())

    # --- policies ------------------------------------------------------------------------
    @contract_rpc("enterprise")
    def publish_policy(self, request: c.PublishPolicyRequest) -> Any:
        return policies.publish_policy(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def list_policies(self, request: c.ListPoliciesRequest) -> Any:
        return policies.list_policies(self.uow())

    @contract_rpc("enterprise")
    def policies_for_enterprise(self, request: c.PoliciesForEnterpriseRequest) -> Any:
        return policies.policies_for_enterprise(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def policy_reach(self, request: c.PolicyReachRequest) -> Any:
        return policies.policy_reach(self.uow(), request, self.clock.now())

    # --- key projects --------------------------------------------------------------------
    @contract_rpc("enterprise")
    def create_project(self, request: c.CreateProjectRequest) -> Any:
        return projects.create_project(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def start_project(self, request: c.StartProjectRequest) -> Any:
        return projects.start_project(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def approve_step(self, request: c.ApproveStepRequest) -> Any:
        return projects.approve_step(self.uow(), request, self.clock.now())

    @contract_rpc("enterprise")
    def get_project(self, request: c.GetProjectRequest) -> Any:
        return projects.get_project(self.uow(), request.project_id, self.clock.now())

    @contract_rpc("enterprise")
    def list_projects(self, request: c.ListProjectsRequest) -> Any:
        return projects.list_projects(self.uow(), request, self.clock.now())
