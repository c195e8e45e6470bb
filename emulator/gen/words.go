package gen

var firstNames = []string{
	"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
	"William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
	"Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Sandra", "Mark", "Margaret",
	"Priya", "Wei", "Aisha", "Carlos", "Sofia", "Lukas", "Yuki", "Olga", "Mateo", "Fatima",
	"Noah", "Emma", "Liam", "Olivia", "Hannah", "Ravi", "Chen", "Amara", "Diego", "Ingrid",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
	"Patel", "Nguyen", "Kim", "Schmidt", "Müller", "Rossi", "Dubois", "Kowalski", "Tanaka", "O'Brien",
	"Okafor", "Silva", "Novak", "Larsen", "Cohen", "Singh", "Wang", "Fischer", "Murphy", "Costa",
}

var companyFirst = []string{
	"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Hooli", "Vandelay", "Soylent",
	"Cyberdyne", "Tyrell", "Aperture", "Black Mesa", "Gringotts", "Oscorp", "Pied Piper", "Massive", "Dunder", "Prestige",
	"Blue Ridge", "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Proseware", "Adventure", "Wingtip", "Alpine",
	"Summit", "Harbor", "Cedar", "Granite", "Silverline", "Redwood", "Evergreen", "Brightwave", "Ironclad", "Keystone",
	"Lumen", "Vertex", "Nimbus", "Quantum", "Helix", "Polaris", "Orbit", "Crescent", "Beacon", "Atlas",
}

var companySecond = []string{
	"Analytics", "Logistics", "Health", "Foods", "Energy", "Systems", "Labs", "Capital", "Retail", "Media",
	"Manufacturing", "Software", "Networks", "Pharma", "Motors", "Insurance", "Robotics", "Biotech", "Materials", "Travel",
}

var companySuffix = []string{"Inc", "LLC", "Corp", "Ltd", "GmbH", "Group", "Holdings", "Co", "plc", "SA"}

var industries = []string{
	"Technology", "Healthcare", "Financial Services", "Manufacturing", "Retail", "Education",
	"Media", "Energy", "Transportation", "Hospitality", "Telecommunications", "Consulting",
}

var countries = []string{"United States", "United Kingdom", "Germany", "France", "Canada", "Australia", "Netherlands", "Japan", "Brazil", "India"}

// Executive titles: director or above.
var execTitles = []string{
	"CEO", "CFO", "CTO", "COO", "CIO", "Chief Revenue Officer", "Chief Customer Officer",
	"VP of Operations", "VP Engineering", "Vice President, Sales", "SVP Customer Success", "EVP Finance",
	"Director of IT", "Director, Marketing Operations", "Head of Customer Experience", "Head of Data",
	"Founder", "Co-Founder & President", "Managing Partner", "Senior Director, Product",
}

// User titles: individual contributors and managers below director.
var userTitles = []string{
	"Software Engineer", "Data Analyst", "Marketing Manager", "Sales Operations Specialist", "Account Manager",
	"Project Manager", "IT Administrator", "Business Analyst", "Customer Support Lead", "Product Manager",
	"Operations Coordinator", "Financial Analyst", "HR Generalist", "Solutions Architect", "Office Manager",
	"Team Lead, Support", "Senior Consultant", "Systems Administrator", "Procurement Specialist", "",
}

var departments = []string{"Executive", "Engineering", "Finance", "Marketing", "Sales", "Operations", "IT", "Customer Success", "HR", "Procurement"}

var teamTitles = []string{"Customer Success Manager", "Senior Customer Success Manager", "Account Executive", "Account Manager", "Solutions Consultant"}

var (
	emailOutSubjects = []string{"Following up on our call", "Quick check-in", "Resources for your team", "Renewal timeline", "Invitation: product roadmap webinar", "Training session recap", "Your quarterly usage report"}
	emailInSubjects  = []string{"Re: Following up on our call", "Question about SSO setup", "Re: Quick check-in", "Adding more users", "Re: Renewal timeline", "Feature request", "Re: Your quarterly usage report"}
	callSubjects     = []string{"Check-in call", "Onboarding call", "Support escalation call", "Renewal discussion", "Call: adoption review"}
	meetingSubjects  = []string{"Quarterly check-in", "Onboarding workshop", "Admin training", "Roadmap preview", "Success plan review"}
	ebrSubjects      = []string{"Executive Business Review", "EBR", "Q%d Executive Business Review", "Annual EBR"}
	taskSubjects     = []string{"Send follow-up deck", "Prepare renewal quote", "Schedule training", "Review support tickets", "Update success plan", "Send usage report"}
	noteSubjects     = []string{"Note: stakeholder map", "Note: call summary", "Note: renewal risks", "Note: expansion ideas"}
)
