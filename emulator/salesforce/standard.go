package salesforce

import (
	"strconv"
	"strings"
)

// standardFields lists standard fields of the served objects that the
// emulated org's schema leaves out but a Data Loader export of a real org
// holds (from the Salesforce Object Reference). LoadCSV adds the ones a
// file names, with these types, instead of refusing the file. Each entry
// is "Name:type[:length or referenced object][:ro]"; types are describe's
// (ref is a lookup, ro a field the API does not write).
var standardFields = map[string][]string{
	"*": {
		"CurrencyIsoCode:picklist", "RecordTypeId:ref:RecordType", "LastViewedDate:datetime:ro",
		"LastReferencedDate:datetime:ro", "Jigsaw:string:20", "CleanStatus:picklist",
	},
	"Account": {
		"MasterRecordId:ref:Account:ro", "AccountNumber:string:40", "AccountSource:picklist", "Site:string:80",
		"BillingStreet:textarea", "BillingCity:string:40", "BillingState:string:80", "BillingPostalCode:string:20",
		"BillingStateCode:picklist", "BillingCountryCode:picklist", "BillingLatitude:double", "BillingLongitude:double",
		"BillingGeocodeAccuracy:picklist", "ShippingStreet:textarea", "ShippingCity:string:40", "ShippingState:string:80",
		"ShippingPostalCode:string:20", "ShippingCountry:string:80", "ShippingStateCode:picklist", "ShippingCountryCode:picklist",
		"ShippingLatitude:double", "ShippingLongitude:double", "ShippingGeocodeAccuracy:picklist", "Fax:phone",
		"Ownership:picklist", "Rating:picklist", "Sic:string:20", "SicDesc:string:80", "TickerSymbol:string:20",
		"PhotoUrl:url:ro", "JigsawCompanyId:string:20:ro", "DunsNumber:string:9", "Tradestyle:string:255",
		"NaicsCode:string:8", "NaicsDesc:string:120", "YearStarted:string:4", "DandbCompanyId:ref:DandBCompany",
		"OperatingHoursId:ref:OperatingHours", "IsPartner:boolean", "IsCustomerPortal:boolean",
		"ChannelProgramName:string:255", "ChannelProgramLevelName:string:255", "IsPersonAccount:boolean:ro",
		"PersonContactId:ref:Contact:ro",
	},
	"Contact": {
		"MasterRecordId:ref:Contact:ro", "Salutation:picklist", "MiddleName:string:40", "Suffix:string:40",
		"OtherStreet:textarea", "OtherCity:string:40", "OtherState:string:80", "OtherPostalCode:string:20",
		"OtherCountry:string:80", "OtherLatitude:double", "OtherLongitude:double", "OtherGeocodeAccuracy:picklist",
		"MailingStreet:textarea", "MailingCity:string:40", "MailingState:string:80", "MailingPostalCode:string:20",
		"MailingCountry:string:80", "MailingLatitude:double", "MailingLongitude:double", "MailingGeocodeAccuracy:picklist",
		"Fax:phone", "MobilePhone:phone", "HomePhone:phone", "OtherPhone:phone", "AssistantPhone:phone",
		"ReportsToId:ref:Contact", "LeadSource:picklist", "Birthdate:date", "AssistantName:string:40",
		"Description:textarea", "HasOptedOutOfEmail:boolean", "HasOptedOutOfFax:boolean", "DoNotCall:boolean",
		"LastCURequestDate:datetime:ro", "LastCUUpdateDate:datetime:ro", "EmailBouncedReason:string:255",
		"EmailBouncedDate:datetime", "IsEmailBounced:boolean:ro", "PhotoUrl:url:ro", "JigsawContactId:string:20:ro",
		"IndividualId:ref:Individual", "IsPriorityRecord:boolean", "ContactSource:picklist", "Pronouns:picklist",
		"GenderIdentity:picklist", "TitleType:picklist", "DepartmentGroup:picklist",
	},
	"Opportunity": {
		"IsPrivate:boolean", "ExpectedRevenue:currency:ro", "TotalOpportunityQuantity:double", "NextStep:string:255",
		"LeadSource:picklist", "CampaignId:ref:Campaign", "HasOpportunityLineItem:boolean:ro", "Pricebook2Id:ref:Pricebook2",
		"FiscalQuarter:int:ro", "FiscalYear:int:ro", "Fiscal:string:6:ro", "ContactId:ref:Contact",
		"HasOpenActivity:boolean:ro", "HasOverdueTask:boolean:ro", "LastStageChangeDate:datetime:ro",
		"LastAmountChangedHistoryId:ref:OpportunityHistory:ro", "LastCloseDateChangedHistoryId:ref:OpportunityHistory:ro",
		"PushCount:int:ro", "SyncedQuoteId:ref:Quote", "ContractId:ref:Contract", "PartnerAccountId:ref:Account",
	},
	"Task": {
		"RecurrenceActivityId:ref:Task:ro", "IsRecurrence:boolean", "RecurrenceStartDateOnly:date", "RecurrenceEndDateOnly:date",
		"RecurrenceTimeZoneSidKey:picklist", "RecurrenceType:picklist", "RecurrenceInterval:int", "RecurrenceDayOfWeekMask:int",
		"RecurrenceDayOfMonth:int", "RecurrenceInstance:picklist", "RecurrenceMonthOfYear:picklist",
		"RecurrenceRegeneratedType:picklist", "ReminderDateTime:datetime", "IsReminderSet:boolean", "WhoCount:int:ro",
		"WhatCount:int:ro", "IsVisibleInSelfService:boolean", "CallObject:string:255", "CallDisposition:string:255",
		"CompletedDateTime:datetime:ro",
	},
	"Event": {
		"IsPrivate:boolean", "ShowAs:picklist", "IsChild:boolean:ro", "IsGroupEvent:boolean:ro", "GroupEventType:picklist:ro",
		"IsRecurrence:boolean", "RecurrenceActivityId:ref:Event:ro", "RecurrenceStartDateTime:datetime",
		"RecurrenceEndDateOnly:date", "RecurrenceTimeZoneSidKey:picklist", "RecurrenceType:picklist",
		"RecurrenceInterval:int", "RecurrenceDayOfWeekMask:int", "RecurrenceDayOfMonth:int", "RecurrenceInstance:picklist",
		"RecurrenceMonthOfYear:picklist", "ReminderDateTime:datetime", "IsReminderSet:boolean", "EndDate:date:ro",
		"IsVisibleInSelfService:boolean", "WhoCount:int:ro", "WhatCount:int:ro",
	},
	"User": {
		"Alias:string:8", "CommunityNickname:string:40", "TimeZoneSidKey:picklist", "LocaleSidKey:picklist",
		"EmailEncodingKey:picklist", "LanguageLocaleKey:picklist", "UserRoleId:ref:UserRole", "UserType:picklist:ro",
		"ManagerId:ref:User", "Department:string:80", "Division:string:80", "CompanyName:string:80", "Street:textarea",
		"City:string:40", "State:string:80", "PostalCode:string:20", "Country:string:80", "Phone:phone",
		"MobilePhone:phone", "Fax:phone", "Extension:string:40", "EmployeeNumber:string:20", "FederationIdentifier:string:512",
		"LastLoginDate:datetime:ro", "LastPasswordChangeDate:datetime:ro", "ContactId:ref:Contact", "AccountId:ref:Account:ro",
		"CallCenterId:ref:CallCenter", "ReceivesInfoEmails:boolean", "ReceivesAdminInfoEmails:boolean",
		"SenderEmail:email", "SenderName:string:80", "Signature:textarea", "AboutMe:textarea", "IsProfilePhotoActive:boolean:ro",
		"DelegatedApproverId:ref:User", "DefaultGroupNotificationFrequency:picklist", "DigestFrequency:picklist",
		"FullPhotoUrl:url:ro", "SmallPhotoUrl:url:ro", "MediumPhotoUrl:url:ro", "BannerPhotoUrl:url:ro",
		"IsExtIndicatorVisible:boolean:ro", "OutOfOfficeMessage:string:40", "StartDay:picklist", "EndDay:picklist",
		"UserPermissionsMarketingUser:boolean", "UserPermissionsOfflineUser:boolean", "ForecastEnabled:boolean",
	},
}

// standardField returns the catalogue's field name of object, or nil.
func standardField(object, name string) *field {
	for _, key := range []string{object, "*"} {
		for _, spec := range standardFields[key] {
			parts := strings.Split(spec, ":")
			if !strings.EqualFold(parts[0], name) {
				continue
			}
			f := &field{name: parts[0], label: parts[0], typ: parts[1], createable: true, updateable: true, nillable: true}
			rest := parts[2:]
			if n := len(rest); n > 0 && rest[n-1] == "ro" {
				f.createable, f.updateable = false, false
				rest = rest[:n-1]
			}
			switch f.typ {
			case "ref":
				f.typ, f.length, f.referenceTo = tReference, 18, []string{rest[0]}
				f.relationshipName = strings.TrimSuffix(f.name, "Id")
			case tString:
				f.length, _ = strconv.Atoi(rest[0])
			case tTextarea:
				f.length = 255
			case tPicklist, tPhone, tURL, tEmail:
				f.length = 255
				if f.typ == tPhone {
					f.length = 40
				}
			case tDouble, tCurrency:
				f.precision, f.scale = 18, 2
			case tInt:
				f.digits = 9
			case tBoolean:
				f.nillable, f.defaultedOnCreate = false, true
			}
			return f
		}
	}
	return nil
}
